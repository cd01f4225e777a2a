// Replicated kind "catalogue_master" (admin guide §4.6.3, issue 18): which pool holds the model
// catalogue's writes. A promotion carries the next epoch; the higher epoch wins, and two promotions of
// the same epoch (two admins at once on two pools) are settled by the usual (hlc, origin) order, so
// every pool ends with the same single master.
import type { Sql, Tx } from "../../db/client.ts"
import { CelluleError } from "../../errors.ts"
import type { ReplicatedKind, Stamp } from "./index.ts"

export interface CatalogueMasterPayload {
  pool: string
  url: string
  epoch: number
  promoted_by: string
}

export const catalogueMaster: ReplicatedKind<CatalogueMasterPayload> = {
  kind: "catalogue_master",
  parse(payload) {
    const p = payload as Partial<CatalogueMasterPayload> | null
    if (!p || typeof p.pool !== "string" || !p.pool || p.pool.length > 128)
      throw new CelluleError("payload_invalid", "catalogue_master needs the master pool's id", 400)
    if (typeof p.url !== "string" || p.url.length > 512)
      throw new CelluleError("payload_invalid", "catalogue_master needs the master pool's URL", 400)
    if (!Number.isSafeInteger(p.epoch) || (p.epoch as number) < 1)
      throw new CelluleError("payload_invalid", "catalogue_master epoch must be a whole number from 1", 400)
    return {
      pool: p.pool,
      url: p.url,
      epoch: p.epoch as number,
      promoted_by: String(p.promoted_by ?? "").slice(0, 320),
    }
  },
  async apply(sql: Sql | Tx, p, s: Stamp) {
    const rows = await sql.unsafe(
      `insert into catalogue_master as t (id, pool, url, epoch, promoted_by, hlc, origin) values (true, $1, $2, $3, $4, $5, $6)
       on conflict (id) do update set pool = excluded.pool, url = excluded.url, epoch = excluded.epoch,
         promoted_by = excluded.promoted_by, hlc = excluded.hlc, origin = excluded.origin, updated_at = now()
       where excluded.epoch > t.epoch or (excluded.epoch = t.epoch and (excluded.hlc collate "C" > t.hlc collate "C"
         or (excluded.hlc = t.hlc and excluded.origin collate "C" > t.origin collate "C")))
       returning id`,
      [p.pool, p.url, p.epoch, p.promoted_by, s.hlc, s.origin],
    )
    return rows.length > 0
  },
}
