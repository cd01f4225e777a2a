// core/workers/migration/pins — the `home_pool` pin (issue 17, admin guide §4.2 on-site vs mobile): an
// on-site worker is pinned to its home pool and the balancer never moves it; a mobile one (unpinned)
// goes where the load is. Replicated as kind "worker_pin" so the pin follows the worker to any pool.
// A manual move of a pinned worker is allowed: it is the administrator's explicit decision (§4.6.1),
// and the pin stays (the balancer still leaves the worker alone wherever it now is).
import type { Sql } from "../../db/client.ts"

export interface WorkerPin {
  worker_id: string
  home_pool: string | null
  updated_at: Date
}

/** Every pin ever written (home_pool null: unpinned), newest first. */
export const listPins = (sql: Sql) =>
  sql<WorkerPin[]>`select worker_id, home_pool, updated_at from worker_pins order by updated_at desc, worker_id`

/** Workers pinned now, to their home pool. */
export async function pinnedWorkers(sql: Sql): Promise<Map<string, string>> {
  const rows = await sql<{ worker_id: string; home_pool: string }[]>`
    select worker_id, home_pool from worker_pins where home_pool is not null`
  return new Map(rows.map((r) => [r.worker_id, r.home_pool]))
}

/** Pin a worker to `home_pool` (null: unpin), through the replicated kind (signed, logged, last writer wins). */
export async function setHomePool(
  publish: (kind: string, payload: unknown) => Promise<unknown>,
  workerId: string,
  homePool: string | null,
): Promise<{ worker_id: string; home_pool: string | null }> {
  await publish("worker_pin", { worker_id: workerId, home_pool: homePool })
  return { worker_id: workerId, home_pool: homePool }
}

/** The pins as the API and the pages use them. */
export function workerPins(sql: Sql, publish: (kind: string, payload: unknown) => Promise<unknown>) {
  return {
    list: () => listPins(sql),
    pinned: () => pinnedWorkers(sql),
    set: (workerId: string, homePool: string | null) => setHomePool(publish, workerId, homePool),
  }
}
export type WorkerPins = ReturnType<typeof workerPins>
