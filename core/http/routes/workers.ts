// GET /v1/workers — public: how many workers and what they serve, in aggregate. No worker ids or
// names: an id was enough to impersonate a machine (issue 22.5), and a name says whose desk it is.
// GET /v1/admin/workers — administrators: each live worker, its hardware, models and slot use.
import { Elysia } from "elysia"
import type { Scheduler } from "../../scheduler/scheduler.ts"
import type { PoolContext } from "../context.ts"
import { adminGuard } from "../guards.ts"

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

export const workerRoutes = (scheduler: Scheduler) => (ctx: PoolContext) =>
  new Elysia()
    .get("/v1/workers", () => workersSummary(scheduler.snapshot()))
    .use(new Elysia().use(adminGuard(ctx)).get("/v1/admin/workers", () => scheduler.snapshot()))
