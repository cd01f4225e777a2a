// The scheduler in-process with fake worker links: slot accounting, queue bounds, priorities,
// re-dispatch and resumption of jobs whose worker disappears.
import { describe, expect, test } from "bun:test"
import { Scheduler, type JobSink, type WorkerLink } from "../../../core/scheduler/scheduler.ts"
import { ManualClock } from "../../../core/clock.ts"
import type { PoolMessage } from "../../../core/workers/protocol.ts"

function fakeWorker(s: Scheduler, id: string, slots: number) {
  const sent: PoolMessage[] = []
  const link = { send: (m: PoolMessage) => void sent.push(m), close: () => {} } satisfies WorkerLink
  const w = s.addWorker(
    {
      type: "hello",
      v: 1,
      worker_id: id,
      name: id,
      version: "t",
      hardware: { os: "linux", arch: "x64", cpu_threads: 2, ram_mb: 1024 },
      models: [{ id: "m", kind: "llm", slots }],
      activity: "available",
    },
    link,
  )
  const jobs = () => sent.filter((m): m is Extract<PoolMessage, { type: "job" }> => m.type === "job")
  return { w, sent, jobs }
}

function sink() {
  const out = { tokens: [] as string[], done: 0, errors: [] as string[] }
  const s: JobSink = {
    onToken: (t) => out.tokens.push(t),
    onDone: () => out.done++,
    onError: (e) => out.errors.push(e.code),
  }
  return { s, out }
}

const make = (opts: Partial<ConstructorParameters<typeof Scheduler>[0]> = {}) =>
  new Scheduler({ clock: new ManualClock(), maxQueue: 0, queueTimeoutMs: 60_000, heartbeatMs: 1000, ...opts })

describe("Scheduler", () => {
  test("never sends a worker more jobs than its slots; the rest wait", () => {
    const s = make()
    const a = fakeWorker(s, "worker-aaaa", 2)
    for (let i = 0; i < 5; i++) s.submit("m", "chat", { messages: [] }, sink().s)
    expect(a.jobs().length).toBe(2)
    expect(s.snapshot().queue_depth).toBe(3)
  })

  test("the automatic queue bound grows with the declared headcount", () => {
    let headcount = 0
    const s = make({ headcount: () => headcount })
    fakeWorker(s, "worker-aaaa", 1)
    expect(s.queueLimit("m")).toBe(16)
    headcount = 120
    expect(s.queueLimit("m")).toBe(120)
    expect(make({ maxQueue: 3 }).queueLimit("m")).toBe(3)
  })

  test("a full queue throws queue_full with a retry hint", () => {
    const s = make({ maxQueue: 1 })
    fakeWorker(s, "worker-aaaa", 1)
    s.submit("m", "chat", {}, sink().s)
    s.submit("m", "chat", {}, sink().s)
    expect(() => s.submit("m", "chat", {}, sink().s)).toThrow(
      expect.objectContaining({ code: "queue_full", status: 429 }),
    )
  })

  test("a client holding clientQueueMax waiting jobs gets client_queue_full; another client still gets in", () => {
    const s = make({ maxQueue: 100, clientQueueMax: 2 })
    const a = fakeWorker(s, "worker-aaaa", 1)
    const alice = { client: "key:alice", priority: "interactive", capped: true } as const
    s.submit("m", "chat", {}, sink().s, alice) // runs
    s.submit("m", "chat", {}, sink().s, alice) // waits (1)
    s.submit("m", "chat", {}, sink().s, alice) // waits (2)
    expect(a.jobs().length).toBe(1)
    let err: unknown
    try {
      s.submit("m", "chat", {}, sink().s, alice)
    } catch (e) {
      err = e
    }
    expect(err).toMatchObject({ code: "client_queue_full", status: 429 })
    expect((err as { retryAfterS: number }).retryAfterS).toBeGreaterThanOrEqual(1)
    s.submit("m", "chat", {}, sink().s, { client: "ip:10.0.0.7", priority: "interactive", capped: true })
    expect(s.snapshot().queue_depth).toBe(3)
    // Uncapped clients (internal work, a peer's anonymous forwards) are held only by the model's bound.
    for (let i = 0; i < 3; i++) s.submit("m", "chat", {}, sink().s, { client: "cellule:rag", priority: "batch" })
    expect(s.snapshot().queue_depth).toBe(6)
    // 0 turns the per-client bound off.
    const off = make({ maxQueue: 100, clientQueueMax: 0 })
    fakeWorker(off, "worker-bbbb", 1)
    for (let i = 0; i < 5; i++) off.submit("m", "chat", {}, sink().s, alice)
    expect(off.snapshot().queue_depth).toBe(4)
  })

  test("batch work leaves the reserved slot for interactive requests", () => {
    const s = make({ interactiveReserve: 1 })
    const a = fakeWorker(s, "worker-aaaa", 2)
    s.submit("m", "chat", {}, sink().s, { client: "script", priority: "batch" })
    s.submit("m", "chat", {}, sink().s, { client: "script", priority: "batch" })
    expect(a.jobs().length).toBe(1)
    s.submit("m", "chat", {}, sink().s, { client: "alice", priority: "interactive" })
    expect(a.jobs().length).toBe(2)
  })

  test("a streamed job whose worker dies resumes elsewhere from the token ids already sent", () => {
    const s = make()
    const a = fakeWorker(s, "worker-aaaa", 1)
    const { s: sk, out } = sink()
    s.submit("m", "chat", { messages: [{ role: "user", content: "q" }], max_tokens: 10 }, { ...sk, resumable: true })
    const job = a.jobs()[0]
    s.onWorkerMessage(a.w, { type: "token", job_id: job.job_id, text: "He", ids: [1, 2] })
    s.onWorkerMessage(a.w, { type: "token", job_id: job.job_id, text: "llo", ids: [3] })
    s.removeWorker("worker-aaaa", "killed")
    const b = fakeWorker(s, "worker-bbbb", 1)
    const resumed = b.jobs()[0]
    expect(resumed.job_id).toBe(job.job_id)
    expect(resumed.params.resume_tokens).toEqual([1, 2, 3])
    expect(resumed.params.max_tokens).toBe(7)
    s.onWorkerMessage(b.w, { type: "token", job_id: job.job_id, text: " world", ids: [4] })
    s.onWorkerMessage(b.w, {
      type: "done",
      job_id: job.job_id,
      finish_reason: "length",
      usage: { prompt_tokens: 8, completion_tokens: 7 },
    })
    expect(out.tokens.join("")).toBe("Hello world")
    expect(out.errors).toEqual([])
    expect(out.done).toBe(1)
  })

  test("unknown model → model_not_found; known model without a live worker → no_worker_available", () => {
    const s = make()
    expect(() => s.submit("m", "chat", {}, sink().s)).toThrow(expect.objectContaining({ code: "model_not_found" }))
    fakeWorker(s, "worker-aaaa", 1)
    s.removeWorker("worker-aaaa", "gone")
    expect(() => s.submit("m", "chat", {}, sink().s)).toThrow(
      expect.objectContaining({ code: "no_worker_available", status: 503 }),
    )
  })
})

test("while an interactive request runs, batch work backs off to one running job", () => {
  const s = make({ interactiveReserve: 1 })
  const a = fakeWorker(s, "worker-aaaa", 4)
  s.submit("m", "chat", {}, sink().s, { client: "alice", priority: "interactive" })
  for (let i = 0; i < 5; i++) s.submit("m", "chat", {}, sink().s, { client: "script", priority: "batch" })
  // 1 interactive + 1 batch running; the other batch jobs wait although slots are free.
  expect(a.jobs().length).toBe(2)
  expect(s.snapshot().queue_depth).toBe(4)
})

test("for a while after an interactive request, batch runs one job at a time; then it uses the free slots", () => {
  const clock = new ManualClock()
  const s = make({ clock, interactiveReserve: 1, interactiveWindowMs: 10_000 })
  const a = fakeWorker(s, "worker-aaaa", 4)
  const alice = s.submit("m", "chat", {}, sink().s, { client: "alice", priority: "interactive" })
  s.onWorkerMessage(a.w, {
    type: "done",
    job_id: a.jobs()[0].job_id,
    finish_reason: "stop",
    usage: { prompt_tokens: 1, completion_tokens: 1 },
  })
  expect(alice.state).toBe("finished")
  for (let i = 0; i < 5; i++) s.submit("m", "chat", {}, sink().s, { client: "script", priority: "batch" })
  expect(a.jobs().length).toBe(2) // alice's, then one batch job
  clock.advance(10_001)
  s.onWorkerMessage(a.w, {
    type: "done",
    job_id: a.jobs()[1].job_id,
    finish_reason: "stop",
    usage: { prompt_tokens: 1, completion_tokens: 1 },
  })
  expect(a.jobs().length).toBe(5) // window over: batch takes every slot but the reserved one
})
