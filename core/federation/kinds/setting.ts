// Replicated kind "setting": cluster-wide advanced settings (moe_local_config, runtime flags).
import type { Sql, Tx } from "../../db/client.ts"
import { CelluleError } from "../../errors.ts"
import { clusterSettingDef } from "../../config/cluster-settings.ts"
import type { ReplicatedKind, Stamp } from "./index.ts"
import { NEWER_WINS } from "./_lww.ts"

export interface SettingPayload {
  key: string
  value: unknown
}

/** Which settings are cluster-wide, and the JSON type each takes. Runtime flags are "flags.<name>". */
export const CLUSTER_WIDE: Record<string, "object" | "boolean" | "number" | "string"> = {
  moe_local_config: "object",
  "federation.auto_promote": "boolean",
  // Anonymous LAN access to the OpenAI API (core/auth/anonymous-access.ts): one answer on every pool.
  "openai.anonymous_access": "boolean",
  // Worker migration orders run by themselves (true) or wait for an admin's approval (core/workers/migration).
  "balancer.executor_enabled": "boolean",
  // Model guidance (admin guide §4.9, core/gateway/guidance.ts): SYSTEM_PROMPT and the answer filters.
  "guidance.system_prompt": "string",
  "guidance.think_strip": "boolean",
  "guidance.preamble_filter": "boolean",
}

export function settingType(key: string): "object" | "boolean" | "number" | "string" | undefined {
  // The Advanced settings (core/config/cluster-settings.ts): runtime flags per hardware class, MoE profile.
  const def = clusterSettingDef(key)
  if (def) return def.type
  if (/^flags\.[a-z0-9_]{1,48}$/.test(key)) return "boolean"
  // SYSTEM_PROMPT per model (its id), and smart routing's prototypes and models per tier.
  if (/^guidance\.system_prompt\.[A-Za-z0-9._-]{1,200}$/.test(key)) return "string"
  if (/^smart_routing\.(?:prototypes|model)\.(?:fast|reasoning|code)$/.test(key)) return "string"
  return CLUSTER_WIDE[key]
}

export const clusterSetting: ReplicatedKind<SettingPayload> = {
  kind: "setting",
  parse(payload) {
    const p = payload as Partial<SettingPayload> | null
    if (!p || typeof p !== "object" || typeof p.key !== "string")
      throw new CelluleError("payload_invalid", "setting payload needs a key", 400)
    const type = settingType(p.key)
    if (!type) throw new CelluleError("setting_not_cluster_wide", `"${p.key}" is not a cluster-wide setting`, 400)
    const actual = p.value === null ? "null" : Array.isArray(p.value) ? "array" : typeof p.value
    if (actual !== type)
      throw new CelluleError("payload_invalid", `setting "${p.key}" takes a JSON ${type}, got ${actual}`, 400)
    // A typed setting is checked like the dashboard checks it: a peer cannot push what a worker could not run.
    const def = clusterSettingDef(p.key)
    if (def) {
      try {
        return { key: p.key, value: def.validate(p.value) }
      } catch (e) {
        throw new CelluleError("payload_invalid", `setting "${p.key}": ${(e as Error).message}`, 400)
      }
    }
    return { key: p.key, value: p.value }
  },
  async apply(sql: Sql | Tx, p, s: Stamp) {
    const rows = await sql.unsafe(
      `insert into cluster_settings as t (key, value, hlc, origin) values ($1, $2::text::jsonb, $3, $4)
       on conflict (key) do update set value = excluded.value, hlc = excluded.hlc, origin = excluded.origin, updated_at = now()
       ${NEWER_WINS}
       returning key`,
      [p.key, JSON.stringify(p.value), s.hlc, s.origin],
    )
    return rows.length > 0
  },
}
