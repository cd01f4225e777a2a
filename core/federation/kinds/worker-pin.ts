// Replicated kind "worker_pin" (issue 17, admin guide §4.2 on-site vs mobile): a worker pinned to its
// home pool, or unpinned (home_pool null). The balancer never moves a pinned worker; the pin follows the
// worker to whichever pool it is connected to. Last writer wins.
import type { Sql, Tx } from "../../db/client.ts"
import { CelluleError } from "../../errors.ts"
import type { ReplicatedKind, Stamp } from "./index.ts"
import { NEWER_WINS } from "./_lww.ts"

export interface WorkerPinPayload {
  worker_id: string
  home_pool: string | null
}

export const workerPinReplica: ReplicatedKind<WorkerPinPayload> = {
  kind: "worker_pin",
  parse(payload) {
    const p = payload as Partial<WorkerPinPayload> | null
    if (!p || typeof p.worker_id !== "string" || !p.worker_id || p.worker_id.length > 200)
      throw new CelluleError("payload_invalid", "worker_id must be a non-empty string", 400)
    const home = p.home_pool ?? null
    if (home !== null && (typeof home !== "string" || !/^atom_[0-9a-f]{32}$/.test(home)))
      throw new CelluleError("payload_invalid", "home_pool must be a pool's federation id (atom_…) or null", 400)
    return { worker_id: p.worker_id, home_pool: home }
  },
  async apply(sql: Sql | Tx, p, s: Stamp) {
    const rows = await sql.unsafe(
      `insert into worker_pins as t (worker_id, home_pool, hlc, origin) values ($1, $2, $3, $4)
       on conflict (worker_id) do update set home_pool = excluded.home_pool, hlc = excluded.hlc, origin = excluded.origin, updated_at = now()
       ${NEWER_WINS}
       returning worker_id`,
      [p.worker_id, p.home_pool, s.hlc, s.origin],
    )
    return rows.length > 0
  },
}
