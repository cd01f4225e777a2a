// core/workers/summary — what the public GET /v1/workers may say: counts only. No worker ids or
// names: an id was enough to impersonate a machine (issue 22.5), and a name says whose desk it is.
import type { Scheduler } from "../scheduler/scheduler.ts"

type Snapshot = ReturnType<Scheduler["snapshot"]>

/** Counts only: workers by activity, and per model the workers, slots and jobs across them. */
export function workersSummary(snap: Snapshot) {
  const activity = { available: 0, throttled: 0, busy: 0 }
  const models = new Map<
    string,
    { id: string; kind: string; workers: number; slots: number; busy: number; jobs_done: number }
  >()
  for (const w of snap.workers) {
    activity[w.activity as keyof typeof activity]++
    for (const m of w.models) {
      const agg = models.get(m.id) ?? { id: m.id, kind: m.kind, workers: 0, slots: 0, busy: 0, jobs_done: 0 }
      agg.workers++
      agg.slots += m.slots
      agg.busy += m.busy
      agg.jobs_done += m.jobs_done
      models.set(m.id, agg)
    }
  }
  return {
    workers: snap.workers.length,
    activity,
    models: [...models.values()],
    queues: snap.queues,
    queue_depth: snap.queue_depth,
  }
}
