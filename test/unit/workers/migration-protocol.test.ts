// Protocol v2 (issue 17) in-process: a pool accepts hello v1 and v2 (and negotiates the lower), refuses
// v3; a draining worker gets no new job but finishes its own; a migrating worker's model keeps
// queueing while held, and what is still queued when the move ends is handed back (no_worker_available,
// which the gateway forwards) unless a worker here serves the model again.
import { expect, test } from "bun:test"
import { Scheduler, type JobSink, type WorkerLink } from "../../../core/scheduler/scheduler.ts"
import { ManualClock } from "../../../core/clock.ts"
import { negotiatedVersion, parseWorkerMessage, type PoolMessage } from "../../../core/workers/protocol.ts"

const hello = (v: number, id = "worker-0001") => ({
  type: "hello" as const,
  v,
  worker_id: id,
  name: id,
  version: "t",
  hardware: { os: "linux", arch: "x64", cpu_threads: 2, ram_mb: 1024 },
  models: [{ id: "m", kind: "llm" as const, slots: 1 }],
  activity: "available" as const,
})

test("hello v1 and v2 parse and negotiate the lower version; v3 is refused", () => {
  expect(parseWorkerMessage(JSON.stringify(hello(1)))).toMatchObject({ v: 1 })
  expect(parseWorkerMessage(JSON.stringify(hello(2)))).toMatchObject({ v: 2 })
  expect(() => parseWorkerMessage(JSON.stringify(hello(3)))).toThrow(/unsupported protocol version 3/)
  expect(negotiatedVersion(1)).toBe(1)
  expect(negotiatedVersion(2)).toBe(2)
  const s = new Scheduler({ clock: new ManualClock(), maxQueue: 0, queueTimeoutMs: 60_000, heartbeatMs: 1000 })
  const link = { send: () => {}, close: () => {} } satisfies WorkerLink
  expect(s.addWorker(hello(1, "worker-old1"), link).protocol).toBe(1)
  expect(s.addWorker(hello(2, "worker-new1"), link).protocol).toBe(2)
})

test("draining: no new job; held model queues; the end of the move hands left-over jobs back", () => {
  const s = new Scheduler({ clock: new ManualClock(), maxQueue: 0, queueTimeoutMs: 60_000, heartbeatMs: 1000 })
  const sent: PoolMessage[] = []
  const link = { send: (m: PoolMessage) => void sent.push(m), close: () => {} } satisfies WorkerLink
  const errors: string[] = []
  const sink: JobSink = { onToken: () => {}, onDone: () => {}, onError: (e) => errors.push(e.code) }
  const w = s.addWorker(hello(2), link)
  s.submit("m", "chat", {}, sink)
  expect(sent.filter((m) => m.type === "job")).toHaveLength(1)
  s.setDraining(w.id, true)
  s.holdModels(["m"])
  // The slot frees, but a draining worker takes nothing more.
  s.onWorkerMessage(w, {
    type: "done",
    job_id: (sent[0] as { job_id: string }).job_id,
    finish_reason: "stop",
    usage: { prompt_tokens: 1, completion_tokens: 1 },
  })
  s.submit("m", "chat", {}, sink)
  expect(sent.filter((m) => m.type === "job")).toHaveLength(1)
  // The worker leaves; its model is held, so a new request still queues instead of failing.
  s.removeWorker(w.id, "said bye (migrating)")
  s.submit("m", "chat", {}, sink)
  expect(s.snapshot().queue_depth).toBe(2)
  expect(errors).toEqual([])
  s.releaseModels(["m"])
  expect(errors).toEqual(["no_worker_available", "no_worker_available"])
  expect(() => s.submit("m", "chat", {}, sink)).toThrow(expect.objectContaining({ code: "no_worker_available" }))
  // Rolled back: the worker is back before the release, so its jobs stay and run.
  s.holdModels(["m"])
  const back = s.addWorker(hello(2), link)
  s.submit("m", "chat", {}, sink)
  s.releaseModels(["m"])
  expect(errors).toHaveLength(2)
  expect(back.jobs.size).toBe(1)
  s.stop()
})
