// Replicated kind "migration_order" (issue 17): a worker migration order as its issuing pool last wrote
// it, so every pool's Worker balancing page shows every order. The order is signed by the issuing pool
// (over the fields that decide the move, core/workers/migration/orders.ts); parse checks that signature
// against `source_pubkey` and that the key is the source pool's (its atom id is the key's hash). Only
// the source publishes an order (apply ignores one whose envelope origin is another pool). Idempotent on
// id; states only move forward (issued → draining → completed | rolled_back | rejected), so an older
// stamp never brings an order back.
import type { Sql, Tx } from "../../db/client.ts"
import { CelluleError } from "../../errors.ts"
import { atomIdOf } from "../identity.ts"
import type { ReplicatedKind, Stamp } from "./index.ts"
import { verifyOrder, type MigrationOrder, type OrderState } from "../../workers/migration/orders.ts"

export interface MigrationOrderPayload
  extends Omit<MigrationOrder, "issued_at" | "approved_at" | "draining_at" | "finished_at"> {
  source_pubkey: string
  issued_at: string
  approved_at: string | null
  draining_at: string | null
  finished_at: string | null
}

const STATES: OrderState[] = ["issued", "draining", "completed", "rolled_back", "rejected"]
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

const bad = (m: string) => new CelluleError("payload_invalid", m, 400)
const str = (v: unknown, max = 500) => typeof v === "string" && v.length > 0 && v.length <= max
const date = (v: unknown, field: string): string | null => {
  if (v === null || v === undefined) return null
  if (typeof v !== "string" || Number.isNaN(Date.parse(v))) throw bad(`${field} must be an ISO date or null`)
  return new Date(v).toISOString()
}

/** The payload a pool publishes for one of its orders. */
export function orderPayload(o: MigrationOrder, sourcePubkey: string): MigrationOrderPayload {
  const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null)
  return {
    id: o.id,
    worker_id: o.worker_id,
    source_pool: o.source_pool,
    target_pool: o.target_pool,
    reason: o.reason,
    state: o.state,
    issued_by: o.issued_by,
    issued_at: new Date(o.issued_at).toISOString(),
    approved_at: iso(o.approved_at),
    approved_by: o.approved_by,
    draining_at: iso(o.draining_at),
    finished_at: iso(o.finished_at),
    signature: o.signature,
    source_pubkey: sourcePubkey,
  }
}

// forward-only: the rank of a state (terminal states share the top rank; only the source ends an order)
const RANK = `case %s when 'issued' then 0 when 'draining' then 1 else 2 end`
const rank = (col: string) => RANK.replace("%s", col)

export const migrationOrderReplica: ReplicatedKind<MigrationOrderPayload> = {
  kind: "migration_order",
  parse(payload) {
    const p = payload as Partial<MigrationOrderPayload> | null
    if (!p || typeof p.id !== "string" || !UUID.test(p.id)) throw bad("id must be a UUID")
    for (const f of ["worker_id", "source_pool", "target_pool", "issued_by", "signature", "source_pubkey"] as const)
      if (!str(p[f], 200)) throw bad(`${f} must be a non-empty string`)
    if (typeof p.reason !== "string" || p.reason.length > 500) throw bad("reason must be a string")
    if (!STATES.includes(p.state as OrderState)) throw bad(`state must be one of ${STATES.join(", ")}`)
    if (p.approved_by !== null && p.approved_by !== undefined && !str(p.approved_by, 200))
      throw bad("approved_by must be a string or null")
    const issued_at = date(p.issued_at, "issued_at")
    if (!issued_at) throw bad("issued_at is required")
    const order = {
      id: p.id.toLowerCase(),
      worker_id: p.worker_id!,
      source_pool: p.source_pool!,
      target_pool: p.target_pool!,
      reason: p.reason,
      state: p.state as OrderState,
      issued_by: p.issued_by!,
      issued_at,
      approved_at: date(p.approved_at, "approved_at"),
      approved_by: p.approved_by ?? null,
      draining_at: date(p.draining_at, "draining_at"),
      finished_at: date(p.finished_at, "finished_at"),
      signature: p.signature!,
      source_pubkey: p.source_pubkey!,
    }
    // Signed by the issuing pool: its key hashes to source_pool and signed the deciding fields.
    let keyOk = false
    try {
      keyOk = atomIdOf(order.source_pubkey) === order.source_pool
    } catch {}
    if (!keyOk) throw bad("source_pubkey is not the source pool's key")
    if (!verifyOrder({ ...order, issued_at: new Date(issued_at) } as unknown as MigrationOrder, order.source_pubkey))
      throw bad("the order's signature does not verify")
    return order
  },
  async apply(sql: Sql | Tx, p, s: Stamp) {
    if (s.origin !== p.source_pool) return false
    const rows = await sql.unsafe(
      `insert into worker_migration_orders as t (id, worker_id, source_pool, target_pool, reason, state, issued_by,
         issued_at, approved_at, approved_by, draining_at, finished_at, signature, hlc, origin)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
       on conflict (id) do update set
         state = case when ${rank("excluded.state")} > ${rank("t.state")} then excluded.state else t.state end,
         approved_at = coalesce(t.approved_at, excluded.approved_at),
         approved_by = coalesce(t.approved_by, excluded.approved_by),
         draining_at = coalesce(t.draining_at, excluded.draining_at),
         finished_at = coalesce(t.finished_at, excluded.finished_at),
         hlc = excluded.hlc, origin = excluded.origin
       where t.source_pool = excluded.source_pool and t.signature = excluded.signature
         and (excluded.hlc collate "C" > t.hlc collate "C" or ${rank("excluded.state")} > ${rank("t.state")})
       returning id`,
      [
        p.id,
        p.worker_id,
        p.source_pool,
        p.target_pool,
        p.reason,
        p.state,
        p.issued_by,
        p.issued_at,
        p.approved_at,
        p.approved_by,
        p.draining_at,
        p.finished_at,
        p.signature,
        s.hlc,
        s.origin,
      ],
    )
    return rows.length > 0
  },
}
