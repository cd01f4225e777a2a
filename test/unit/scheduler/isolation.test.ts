// Scheduler.isolate / runOn (the model probe's guinea-pig worker, admin guide §4.9.4): an isolated
// worker takes no queued traffic, runOn reaches it, and giving it back drains what waited.
import { expect, test } from "bun:test"
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
  return { w, jobs }
}

const sink = (): JobSink => ({ onToken: () => {}, onDone: () => {}, onError: () => {} })
const make = () => new Scheduler({ clock: new ManualClock(), maxQueue: 0, queueTimeoutMs: 60_000, heartbeatMs: 1000 })

test("an isolated worker gets no queued job; runOn reaches it; given back, it takes the waiting ones", () => {
  const s = make()
  const a = fakeWorker(s, "worker-aaaa", 2)
  const b = fakeWorker(s, "worker-bbbb", 1)
  const giveBack = s.isolate("worker-aaaa")
  for (let i = 0; i < 3; i++) s.submit("m", "chat", { messages: [] }, sink())
  expect(a.jobs().length).toBe(0)
  expect(b.jobs().length).toBe(1)
  expect(s.snapshot().queue_depth).toBe(2)

  const probe = s.runOn("worker-aaaa", "m", "chat", { messages: [], max_tokens: 8 }, sink())
  expect(a.jobs().map((j) => j.job_id)).toEqual([probe.id])
  expect(s.runningOn("worker-aaaa")).toBe(1)
  s.onWorkerMessage(a.w, {
    type: "done",
    job_id: probe.id,
    finish_reason: "stop",
    usage: { prompt_tokens: 1, completion_tokens: 1 },
  })
  expect(s.runningOn("worker-aaaa")).toBe(0)
  // finishing the probe's job does not open the worker to traffic
  expect(a.jobs().length).toBe(1)
  expect(s.snapshot().queue_depth).toBe(2)

  giveBack()
  expect(a.jobs().length).toBe(3)
  expect(s.snapshot().queue_depth).toBe(0)
})

test("runOn refuses a worker that is not isolated or has no free slot", () => {
  const s = make()
  fakeWorker(s, "worker-aaaa", 1)
  expect(() => s.runOn("worker-aaaa", "m", "chat", {}, sink())).toThrow(
    expect.objectContaining({ code: "worker_not_isolated", status: 503 }),
  )
  s.isolate("worker-aaaa")
  s.runOn("worker-aaaa", "m", "chat", {}, sink())
  expect(() => s.runOn("worker-aaaa", "m", "chat", {}, sink())).toThrow(
    expect.objectContaining({ code: "no_worker_available", status: 503 }),
  )
})
