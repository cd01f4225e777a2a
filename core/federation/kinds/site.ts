// Replicated kind "site": a site/branch and its declared headcount (worker balancing, §0.3).
import type { Sql, Tx } from "../../db/client.ts"
import { CelluleError } from "../../errors.ts"
import type { ReplicatedKind, Stamp } from "./index.ts"
import { NEWER_WINS } from "./_lww.ts"

export interface SitePayload {
  site_id: string
  name: string
  headcount: number
  /** The pool serving this site (its federation id), if declared: the balancer weighs it by the headcount (issue 17). */
  pool?: string | null
}

export const siteDeclaration: ReplicatedKind<SitePayload> = {
  kind: "site",
  parse(payload) {
    const p = payload as Partial<SitePayload> | null
    if (!p || typeof p.site_id !== "string" || !/^[a-z0-9][a-z0-9_-]{0,62}$/.test(p.site_id))
      throw new CelluleError("payload_invalid", "site_id must be 1-63 lowercase letters, digits, - or _", 400)
    if (typeof p.name !== "string" || !p.name.trim() || p.name.length > 200)
      throw new CelluleError("payload_invalid", "site name must be 1-200 characters", 400)
    if (
      typeof p.headcount !== "number" ||
      !Number.isInteger(p.headcount) ||
      p.headcount < 0 ||
      p.headcount > 10_000_000
    )
      throw new CelluleError("payload_invalid", "headcount must be a whole number ≥ 0", 400)
    if (p.pool !== undefined && p.pool !== null && (typeof p.pool !== "string" || !/^atom_[0-9a-f]{32}$/.test(p.pool)))
      throw new CelluleError("payload_invalid", "pool must be a pool's federation id (atom_…) or null", 400)
    return { site_id: p.site_id, name: p.name.trim(), headcount: p.headcount, ...(p.pool ? { pool: p.pool } : {}) }
  },
  async apply(sql: Sql | Tx, p, s: Stamp) {
    const rows = await sql.unsafe(
      `insert into sites as t (site_id, name, headcount, pool, hlc, origin) values ($1, $2, $3, $4, $5, $6)
       on conflict (site_id) do update set name = excluded.name, headcount = excluded.headcount, pool = excluded.pool, hlc = excluded.hlc, origin = excluded.origin, updated_at = now()
       ${NEWER_WINS}
       returning site_id`,
      [p.site_id, p.name, p.headcount, p.pool ?? null, s.hlc, s.origin],
    )
    return rows.length > 0
  },
}
