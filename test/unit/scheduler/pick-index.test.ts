// The scheduler's pick index (core/scheduler/pick-heap.ts) and incremental capacity against the
// fleet scan they replaced: a seeded random walk of joins, leaves, activity changes, submissions and
// completions, checking after every step that the chosen worker and the capacity are the scan's.
import { describe, expect, test } from "bun:test"
import { Scheduler, type Job, type WorkerLink, type WorkerState } from "../../../core/scheduler/scheduler.ts"
import { ManualClock } from "../../../core/clock.ts"
import type { Activity } from "../../../core/workers/protocol.ts"

/** The former pickWorker: a scan in arrival order with a strict comparison. */
function scanPick(s: Scheduler, model: string): WorkerState | undefined {
  let best: WorkerState | undefined
  let bestKey: number[] = []
  for (const w of s.workers.values()) {
    const m = w.models.get(model)
    if (!m || m.busy >= m.offer.slots || w.activity === "busy") continue
    const key = [w.activity === "available" ? 0 : 1, m.busy / m.offer.slots, w.lastAssigned]
    if (
      !best ||
      key[0] < bestKey[0] ||
      (key[0] === bestKey[0] && (key[1] < bestKey[1] || (key[1] === bestKey[1] && key[2] < bestKey[2])))
    ) {
      best = w
      bestKey = key
    }
  }
  return best
}

function scanCapacity(s: Scheduler, model: string) {
  let slots = 0
  let busy = 0
  let workers = 0
  for (const w of s.workers.values()) {
    const m = w.models.get(model)
    if (!m) continue
    workers++
    slots += m.offer.slots
    busy += m.busy
  }
  return { slots, busy, workers }
}

function rng(seed: number) {
  let x = seed
  return () => {
    x = (x * 1103515245 + 12345) % 2147483648
    return x / 2147483648
  }
}

describe("scheduler pick index", () => {
  test("picks exactly the worker the fleet scan picks, and keeps capacity equal to the scan's", () => {
    const clock = new ManualClock()
    const s = new Scheduler({ clock, maxQueue: 100_000, queueTimeoutMs: 60_000, heartbeatMs: 1000 })
    const rand = rng(42)
    const link: WorkerLink = { send: () => {}, close: () => {} }
    const running: Job[] = []
    const sink = { onToken() {}, onDone() {}, onError() {} }
    let next = 0
    let picks = 0
    for (let step = 0; step < 4000; step++) {
      clock.advance(1)
      const r = rand()
      const live = [...s.workers.values()]
      if (r < 0.15 || live.length < 3) {
        const id = `worker-${String(next++).padStart(4, "0")}`
        const both = rand() < 0.3
        s.addWorker(
          {
            type: "hello",
            v: 1,
            worker_id: id,
            name: id,
            version: "t",
            hardware: { os: "linux", arch: "x64", cpu_threads: 2, ram_mb: 1 },
            models: [
              { id: "a", kind: "llm", slots: 1 + Math.floor(rand() * 3) },
              ...(both ? [{ id: "b", kind: "llm" as const, slots: 2 }] : []),
            ],
            activity: "available",
          },
          link,
        )
      } else if (r < 0.2) {
        s.removeWorker(live[Math.floor(rand() * live.length)].id, "test")
      } else if (r < 0.3) {
        const w = live[Math.floor(rand() * live.length)]
        const activity: Activity = (["available", "throttled", "busy"] as const)[Math.floor(rand() * 3)]
        s.onWorkerMessage(w, { type: "heartbeat", activity, busy: {} })
      } else if (r < 0.65) {
        const model = rand() < 0.8 ? "a" : "b"
        if (!s.capacity(model).workers) continue
        const expected = scanPick(s, model)
        const job = s.submit(model, "chat", { messages: [] }, sink as never)
        if (expected) {
          expect(job.worker?.id).toBe(expected.id)
          picks++
        }
        running.push(job)
      } else if (running.length) {
        const job = running.splice(Math.floor(rand() * running.length), 1)[0]
        if (job.worker)
          s.onWorkerMessage(job.worker, {
            type: "done",
            job_id: job.id,
            finish_reason: "stop",
            usage: { prompt_tokens: 1, completion_tokens: 1 },
          })
      }
      for (const m of ["a", "b"]) expect(s.capacity(m)).toEqual(scanCapacity(s, m))
    }
    // The walk really exercised the index: many assignments, with workers coming and going.
    expect(picks).toBeGreaterThan(500)
    expect(next).toBeGreaterThan(300)
  })
})
