// Replicated kinds of the model catalogue (issue 18, admin guide §4.6.3), written by the catalogue
// master and applied on every pool, last writer wins by (hlc, origin):
//   "model_entry"      a model file's metadata (name, size, SHA-256, parsed GGUF header, who uploaded
//                      it); deleted: true is the tombstone of a deletion. Satellites copy the bytes from
//                      the master (core/catalog/sync.ts), checked against this SHA-256.
//   "model_assignment" the file serving a hardware class or a tier.
import type { Sql, Tx } from "../../db/client.ts"
import { CelluleError } from "../../errors.ts"
import type { ReplicatedKind, Stamp } from "./index.ts"
import { NEWER_WINS } from "./_lww.ts"

const FILE_NAME = /^[A-Za-z0-9._-]{1,200}\.gguf$/
const CLASSES = ["cpu-mid", "gpu-small", "gpu-large", "apple-m"]
const TIERS = ["fast", "reasoning", "code"]
/** A parsed header carries the chat template: generous, but bounded. */
const MAX_HEADER_JSON = 512 * 1024

const invalid = (m: string) => new CelluleError("payload_invalid", m, 400)

function fileName(v: unknown): string {
  if (typeof v !== "string" || !FILE_NAME.test(v) || v.startsWith("."))
    throw invalid("a model file name is letters, digits, . _ - and ends in .gguf")
  return v
}

export interface ModelEntryPayload {
  file_name: string
  size: number
  sha256: string
  header: Record<string, unknown> | null
  uploaded_by: string | null
  deleted: boolean
}

export const modelEntry: ReplicatedKind<ModelEntryPayload> = {
  kind: "model_entry",
  parse(payload) {
    const p = payload as Partial<ModelEntryPayload> | null
    if (!p || typeof p !== "object") throw invalid("model_entry needs an object")
    const name = fileName(p.file_name)
    if (!Number.isSafeInteger(p.size) || (p.size as number) < 0) throw invalid("model_entry size is bytes ≥ 0")
    if (typeof p.sha256 !== "string" || !/^[0-9a-f]{64}$/.test(p.sha256))
      throw invalid("model_entry sha256 is 64 hex digits")
    const header = p.header ?? null
    if (header !== null && (typeof header !== "object" || Array.isArray(header)))
      throw invalid("model_entry header is an object or null")
    if (header && JSON.stringify(header).length > MAX_HEADER_JSON) throw invalid("model_entry header is too large")
    return {
      file_name: name,
      size: p.size as number,
      sha256: p.sha256,
      header,
      uploaded_by: typeof p.uploaded_by === "string" ? p.uploaded_by.slice(0, 320) : null,
      deleted: p.deleted === true,
    }
  },
  async apply(sql: Sql | Tx, p, s: Stamp) {
    const rows = await sql.unsafe(
      `insert into catalogue_entries as t (file_name, size_bytes, sha256, header, uploaded_by, deleted, hlc, origin)
       values ($1, $2, $3, $4::text::jsonb, $5, $6, $7, $8)
       on conflict (file_name) do update set size_bytes = excluded.size_bytes, sha256 = excluded.sha256,
         header = excluded.header, uploaded_by = excluded.uploaded_by, deleted = excluded.deleted,
         hlc = excluded.hlc, origin = excluded.origin, updated_at = now()
       ${NEWER_WINS}
       returning file_name`,
      [
        p.file_name,
        p.size,
        p.sha256,
        p.header === null ? null : JSON.stringify(p.header),
        p.uploaded_by,
        p.deleted,
        s.hlc,
        s.origin,
      ],
    )
    return rows.length > 0
  },
}

export interface ModelAssignmentPayload {
  scope: "class" | "tier"
  name: string
  file_name: string
}

export const modelAssignment: ReplicatedKind<ModelAssignmentPayload> = {
  kind: "model_assignment",
  parse(payload) {
    const p = payload as Partial<ModelAssignmentPayload> | null
    if (!p || typeof p !== "object") throw invalid("model_assignment needs an object")
    if (
      p.scope === "class"
        ? !CLASSES.includes(p.name as string)
        : p.scope === "tier"
          ? !TIERS.includes(p.name as string)
          : true
    )
      throw invalid(
        "model_assignment names a hardware class (cpu-mid, gpu-small, gpu-large, apple-m) or a tier (fast, reasoning, code)",
      )
    return { scope: p.scope as "class" | "tier", name: p.name as string, file_name: fileName(p.file_name) }
  },
  async apply(sql: Sql | Tx, p, s: Stamp) {
    const [table, key] = p.scope === "class" ? ["hardware_class_models", "hardware_class"] : ["tier_models", "tier"]
    const rows = await sql.unsafe(
      `insert into ${table} as t (${key}, file_name, hlc, origin) values ($1, $2, $3, $4)
       on conflict (${key}) do update set file_name = excluded.file_name, hlc = excluded.hlc, origin = excluded.origin,
         updated_at = now()
       ${NEWER_WINS}
       returning ${key}`,
      [p.name, p.file_name, s.hlc, s.origin],
    )
    return rows.length > 0
  },
}
