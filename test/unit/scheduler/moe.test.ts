// The scheduler reads the Advanced settings: the MoE profile picks the model behind "auto" (which
// experts, how requests spread), and a worker's runtime report (new parallel sequences) resizes its slots.
import { describe, expect, test } from "bun:test"
import { Scheduler, type JobSink, type WorkerLink } from "../../../core/scheduler/scheduler.ts"
import { ManualClock } from "../../../core/clock.ts"
import type { MoeProfile } from "../../../core/config/cluster-settings.ts"
import type { PoolMessage } from "../../../core/workers/protocol.ts"

function fakeWorker(s: Scheduler, id: string, models: { id: string; slots: number }[]) {
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
      models: models.map((m) => ({ ...m, kind: "llm" as const })),
      activity: "available",
      hardware_class: "cpu-mid",
    },
    link,
  )
  const jobs = () => sent.filter((m): m is Extract<PoolMessage, { type: "job" }> => m.type === "job")
  return { w, jobs }
}

const sink: JobSink = { onToken: () => {}, onDone: () => {}, onError: () => {} }
const make = () => new Scheduler({ clock: new ManualClock(), maxQueue: 0, queueTimeoutMs: 60_000, heartbeatMs: 1000 })

describe("MoE profile", () => {
  test('weighted: "auto" goes to the experts in proportion to their weights, never to a weight of 0', () => {
    const s = make()
    fakeWorker(s, "worker-aaaa", [
      { id: "small", slots: 64 },
      { id: "large", slots: 64 },
      { id: "other", slots: 64 },
    ])
    let profile: MoeProfile = {
      experts: [
        { model: "small", weight: 3 },
        { model: "large", weight: 1 },
        { model: "other", weight: 0 },
      ],
      spread: "weighted",
    }
    s.moeProfile = () => profile
    let i = 0
    s.random = () => ((i++ % 8) + 0.5) / 8 // an even sweep of [0, 1)
    const count = (n: number) => {
      const out: Record<string, number> = {}
      for (let k = 0; k < n; k++) {
        const job = s.submit("auto", "chat", {}, sink)
        out[job.model] = (out[job.model] ?? 0) + 1
      }
      return out
    }
    expect(count(8)).toEqual({ small: 6, large: 2 })
    // The profile changes: the next requests follow it.
    profile = { experts: [{ model: "other", weight: 1 }], spread: "weighted" }
    expect(count(4)).toEqual({ other: 4 })
  })

  test("least_loaded: the expert with the most free slots; an expert without a live worker is skipped", () => {
    const s = make()
    fakeWorker(s, "worker-aaaa", [
      { id: "a", slots: 2 },
      { id: "b", slots: 2 },
    ])
    s.moeProfile = () => ({
      experts: [
        { model: "a", weight: 1 },
        { model: "b", weight: 1 },
        { model: "gone", weight: 50 },
      ],
      spread: "least_loaded",
    })
    const picks = [0, 1, 2, 3].map(() => s.submit("auto", "chat", {}, sink).model)
    expect(picks.sort()).toEqual(["a", "a", "b", "b"])
  })

  test("no expert live: 503 no_worker_available; no profile: every live chat model serves auto", () => {
    const s = make()
    fakeWorker(s, "worker-aaaa", [{ id: "only", slots: 1 }])
    s.moeProfile = () => ({ experts: [{ model: "absent", weight: 1 }], spread: "weighted" })
    expect(() => s.submit("auto", "chat", {}, sink)).toThrow(
      expect.objectContaining({ code: "no_worker_available", status: 503 }),
    )
    s.moeProfile = () => undefined
    expect(s.submit("auto", "chat", {}, sink).model).toBe("only")
  })
})

describe("runtime report", () => {
  test("a worker that now runs 3 parallel sequences gets 3 jobs at once; the report shows in the snapshot", () => {
    const s = make()
    const a = fakeWorker(s, "worker-aaaa", [{ id: "m", slots: 1 }])
    for (let i = 0; i < 4; i++) s.submit("m", "chat", {}, sink)
    expect(a.jobs().length).toBe(1)
    const runtime = {
      flags: { parallel: 3 },
      generation: 1,
      models: {
        m: {
          context_size: 512,
          parallel: 3,
          threads: 1,
          batch_size: 512,
          flash_attention: false,
          kv_cache_type: "f16",
        },
      },
    }
    s.onWorkerMessage(a.w, { type: "heartbeat", activity: "available", busy: { m: 1 }, runtime })
    expect(a.jobs().length).toBe(3)
    expect(s.capacity("m").slots).toBe(3)
    const snap = s.snapshot().workers[0] as { hardware_class?: string; runtime?: unknown }
    expect(snap.hardware_class).toBe("cpu-mid")
    expect(snap.runtime).toEqual(runtime)
  })
})
