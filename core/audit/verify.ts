// core/audit/verify — walks the whole chain, oldest first, one page at a time: each row's hash is
// recomputed by the database's own canonical function and each row must point at the one before.
// The first row links to the zero hash (nothing purged yet) or to the hash a checkpoint recorded.
import type { Sql } from "../db/client.ts"

export type BreakReason =
  | "row_hash_mismatch" // the row's content no longer matches its hash: the row was edited
  | "prev_hash_mismatch" // the row does not point at the row before it: a row was replaced or removed
  | "gap" // ids are not consecutive: rows were deleted outside the purge
  | "missing_anchor" // the oldest row follows rows no checkpoint accounts for
  | "head_mismatch" // the last row is not the one the chain head names: rows were removed at the end

export interface VerifyResult {
  ok: boolean
  rows: number
  first_broken: { id: number; reason: BreakReason } | null
}

const ZERO = Buffer.alloc(32)

export async function verifyAudit(sql: Sql, pageSize = 2000): Promise<VerifyResult> {
  let rows = 0
  let prev: { id: number; hash: Buffer } | null = null
  const broken = (id: number, reason: BreakReason): VerifyResult => ({ ok: false, rows, first_broken: { id, reason } })
  for (;;) {
    const page: any[] = await sql`select id, prev_hash, row_hash, audit_row_hash(a) = row_hash as intact,
                                         action, details from audit_log a
                                  where id > ${prev?.id ?? 0} order by id limit ${pageSize}`
    for (const r of page) {
      const id = Number(r.id)
      const prevHash = Buffer.from(r.prev_hash)
      if (!prev) {
        const cp = id === 1 ? { id: 0, hash: ZERO, intact: true } : await checkpointAnchor(sql, id - 1)
        if (!cp) return broken(id, "missing_anchor")
        // An anchor that disagrees because its checkpoint was edited names the checkpoint.
        if (!cp.intact) return broken(cp.id, "row_hash_mismatch")
        if (!cp.hash.equals(prevHash)) return broken(id, "prev_hash_mismatch")
      } else if (id !== prev.id + 1) return broken(id, "gap")
      else if (!prev.hash.equals(prevHash)) return broken(id, "prev_hash_mismatch")
      if (!r.intact) return broken(id, "row_hash_mismatch")
      rows++
      prev = { id, hash: Buffer.from(r.row_hash) }
    }
    if (page.length < pageSize) break
  }
  const [head] = await sql`select last_id, last_hash from audit_head where id = 1`
  if (head && Number(head.last_id) !== (prev?.id ?? Number(head.last_id))) return broken(prev!.id, "head_mismatch")
  if (head && prev && !Buffer.from(head.last_hash).equals(prev.hash)) return broken(prev.id, "head_mismatch")
  if (head && !prev && Number(head.last_id) !== 0) return broken(Number(head.last_id), "head_mismatch")
  return { ok: true, rows, first_broken: null }
}

/** The hash of purged row `throughId`, as the checkpoint written by that purge recorded it. */
async function checkpointAnchor(
  sql: Sql,
  throughId: number,
): Promise<{ id: number; hash: Buffer; intact: boolean } | null> {
  const [cp] = await sql`select id, details->>'through_hash' as h, audit_row_hash(a) = row_hash as intact
                         from audit_log a
                         where action = 'audit.purge' and (details->>'through_id')::bigint = ${throughId}
                         order by id desc limit 1`
  return cp?.h ? { id: Number(cp.id), hash: Buffer.from(cp.h, "hex"), intact: cp.intact } : null
}
