// Replicated kind "memory_fact": a project's memory (short fact) created or erased. A creation is
// immutable once written; an erasure keeps nothing but the ids, so the fact is gone everywhere.
import type { Sql, Tx } from "../../db/client.ts"
import { CelluleError } from "../../errors.ts"
import { redactLog } from "./document.ts"
import type { ReplicatedKind, Stamp } from "./index.ts"

export interface MemoryFactPayload {
  id: string
  project_id: string
  text?: string
  deleted?: boolean
}

export const memoryFact: ReplicatedKind<MemoryFactPayload> = {
  kind: "memory_fact",
  parse(payload) {
    const p = payload as Partial<MemoryFactPayload> | null
    if (!p || typeof p.id !== "string" || !/^mem_[0-9a-f]{8,40}$/.test(p.id))
      throw new CelluleError("payload_invalid", "memory id must look like mem_<hex>", 400)
    if (typeof p.project_id !== "string" || !/^prj_[0-9a-z]{8,40}$/.test(p.project_id))
      throw new CelluleError("payload_invalid", "project_id must look like prj_<id>", 400)
    if (p.deleted === true) return { id: p.id, project_id: p.project_id, deleted: true }
    if (typeof p.text !== "string" || !p.text.trim() || p.text.length > 2000)
      throw new CelluleError("payload_invalid", "memory text must be 1-2000 characters", 400)
    return { id: p.id, project_id: p.project_id, text: p.text.trim() }
  },
  async apply(sql: Sql | Tx, p, s: Stamp) {
    if (p.deleted) {
      await sql`delete from memories where id = ${p.id}`
      return true
    }
    // A fact for a project this pool does not have (yet, or any more) is dropped, not an error.
    const rows = await sql`
      insert into memories (id, project_id, text, hlc, origin)
      select ${p.id}, ${p.project_id}, ${p.text!}, ${s.hlc}, ${s.origin}
      where exists (select 1 from projects where id = ${p.project_id})
      on conflict (id) do nothing
      returning id`
    return rows.length > 0
  },
  // A fact of an erased project arriving late: its logged copy keeps no text.
  async afterLog(sql: Sql | Tx, p) {
    const [t] = await sql`select 1 from rag_tombstones where id = ${p.project_id} and what = 'project'`
    if (t) await redactLog(sql, [], p.project_id)
  },
}
