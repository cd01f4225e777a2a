// Replicated kind "api_key": a virtual API key (its SHA-256, never the secret) and its limits, so a
// key created on one pool works on every pool; revocation travels the same way.
import type { Sql, Tx } from "../../db/client.ts"
import { CelluleError } from "../../errors.ts"
import type { ReplicatedKind, Stamp } from "./index.ts"
import { NEWER_WINS } from "./_lww.ts"

export interface ApiKeyPayload {
  id: string
  name: string
  project: string | null
  prefix: string
  key_hash: string
  models: string[] | null
  rpm: number | null
  tpm: number | null
  monthly_token_budget: number | null
  priority: "interactive" | "batch"
  revoked: boolean
}

/** Whether `id` can name a key (a UUID): anything else is unknown without asking the database. */
export const isKeyId = (id: unknown): id is string => typeof id === "string" && /^[0-9a-f-]{36}$/.test(id)

const posIntOrNull = (v: unknown, what: string) => {
  if (v === null || v === undefined) return null
  if (typeof v !== "number" || !Number.isInteger(v) || v < 1)
    throw new CelluleError("payload_invalid", `${what} must be a positive whole number or null`, 400)
  return v
}

export const apiKeyReplica: ReplicatedKind<ApiKeyPayload> = {
  kind: "api_key",
  parse(payload) {
    const p = payload as Partial<ApiKeyPayload> | null
    if (!p || !isKeyId(p.id)) throw new CelluleError("payload_invalid", "api key id must be a UUID", 400)
    if (typeof p.key_hash !== "string" || !/^[0-9a-f]{64}$/.test(p.key_hash))
      throw new CelluleError("payload_invalid", "key_hash must be a SHA-256 hex digest", 400)
    if (typeof p.name !== "string" || !p.name || p.name.length > 100)
      throw new CelluleError("payload_invalid", "name must be 1-100 characters", 400)
    if (typeof p.prefix !== "string" || p.prefix.length > 16)
      throw new CelluleError("payload_invalid", "prefix must be short", 400)
    if (p.models != null && (!Array.isArray(p.models) || !p.models.every((m) => typeof m === "string" && m.length > 0)))
      throw new CelluleError("payload_invalid", "models must be a list of model ids or null", 400)
    if (p.priority !== "interactive" && p.priority !== "batch")
      throw new CelluleError("payload_invalid", "priority must be interactive or batch", 400)
    return {
      id: p.id,
      name: p.name,
      project: typeof p.project === "string" ? p.project.slice(0, 100) : null,
      prefix: p.prefix,
      key_hash: p.key_hash,
      models: p.models ?? null,
      rpm: posIntOrNull(p.rpm, "rpm"),
      tpm: posIntOrNull(p.tpm, "tpm"),
      monthly_token_budget: posIntOrNull(p.monthly_token_budget, "monthly_token_budget"),
      priority: p.priority,
      revoked: p.revoked === true,
    }
  },
  async apply(sql: Sql | Tx, p, s: Stamp) {
    const rows = await sql.unsafe(
      `insert into api_keys as t (id, name, project, prefix, key_hash, models, rpm, tpm, monthly_token_budget, priority, revoked_at, hlc, origin)
       values ($1, $2, $3, $4, decode($5, 'hex'), $6, $7, $8, $9, $10, case when $11 then now() end, $12, $13)
       on conflict (id) do update set name = excluded.name, project = excluded.project, models = excluded.models, rpm = excluded.rpm,
         tpm = excluded.tpm, monthly_token_budget = excluded.monthly_token_budget, priority = excluded.priority,
         revoked_at = case when $11 then coalesce(t.revoked_at, now()) end, hlc = excluded.hlc, origin = excluded.origin
       ${NEWER_WINS}
       returning id`,
      [
        p.id,
        p.name,
        p.project,
        p.prefix,
        p.key_hash,
        p.models,
        p.rpm,
        p.tpm,
        p.monthly_token_budget,
        p.priority,
        p.revoked,
        s.hlc,
        s.origin,
      ],
    )
    return rows.length > 0
  },
}
