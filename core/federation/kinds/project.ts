// Replicated kind "project": project creation. The id is chosen by the creating pool, so two pools
// creating projects at once never collide; re-applying the same creation is a no-op.
import type { Sql, Tx } from "../../db/client.ts"
import { CelluleError } from "../../errors.ts"
import type { ReplicatedKind, Stamp } from "./index.ts"
import { NEWER_WINS } from "./_lww.ts"

export interface ProjectPayload {
  id: string
  name: string
  description: string
}

export const projectCreation: ReplicatedKind<ProjectPayload> = {
  kind: "project",
  parse(payload) {
    const p = payload as Partial<ProjectPayload> | null
    if (!p || typeof p.id !== "string" || !/^prj_[0-9a-z]{8,40}$/.test(p.id))
      throw new CelluleError("payload_invalid", "project id must look like prj_<id>", 400)
    if (typeof p.name !== "string" || !p.name.trim() || p.name.length > 200)
      throw new CelluleError("payload_invalid", "project name must be 1-200 characters", 400)
    const description = typeof p.description === "string" ? p.description.slice(0, 2000) : ""
    return { id: p.id, name: p.name.trim(), description }
  },
  async apply(sql: Sql | Tx, p, s: Stamp) {
    // An erased project (rag_tombstones) is not brought back by a late or replayed creation.
    const [gone] = await sql`select 1 from rag_tombstones where id = ${p.id} and what = 'project'`
    if (gone) return false
    const rows = await sql.unsafe(
      `insert into projects as t (id, name, description, hlc, origin) values ($1, $2, $3, $4, $5)
       on conflict (id) do update set name = excluded.name, description = excluded.description, hlc = excluded.hlc, origin = excluded.origin
       ${NEWER_WINS}
       returning id`,
      [p.id, p.name, p.description, s.hlc, s.origin],
    )
    return rows.length > 0
  },
}
