// core/settings/admin — the Advanced settings of one pool (§0.5): every setting with its value, where the
// value comes from (default, environment, admin), what it means, whether it needs a restart, the value
// recommended per profile and when and where it last changed; and the one way to change one. Changes are
// published as federation "setting" envelopes: applied here, then gossiped to the trusted peers, where the
// newer HLC wins. Only the catalogue master (core/catalog/master.ts) takes changes while it is a bonded
// peer: a satellite answers 409 settings_read_only naming the master's URL; a pool bonded to no one (or
// whose recorded master is no longer its peer) is its own master. Never talks HTTP.
import type { Config } from "../config/index.ts"
import { SETTINGS, settingSource, type Setting } from "../config/index.ts"
import { CLUSTER_SETTINGS, clusterSettingDef, type ClusterSettingDef } from "../config/cluster-settings.ts"
import type { Sql } from "../db/client.ts"
import { Conflict } from "../errors.ts"
import type { CatalogueRoleView } from "../catalog/master.ts"
import { recommendationFor, type Recommendation } from "./recommend.ts"

export type Source = "default" | "environment" | "admin"

export interface SettingView {
  key: string
  category: string
  /** Changeable here (a cluster-wide setting no environment variable forces). */
  editable: boolean
  /** Forced by an environment variable (or flag) of this pool: shown, not changeable. */
  locked: boolean
  type: string
  value: unknown
  default: unknown
  source: Source
  /** The environment variable that sets or forces it. */
  env?: string
  restart: boolean
  description: { en: string; fr?: string }
  recommend?: { cabinet: unknown; corporate: unknown; sector?: Recommendation }
  /** The last change by an administrator: when, on which pool. */
  last_change?: { at: string; pool: string; origin: string; hlc: string }
}

interface Row {
  key: string
  value: string
  hlc: string
  origin: string
  updated_at: Date
  pool_name: string | null
}

/** Who takes setting changes: this pool (master) or the catalogue master it is bonded to (satellite). */
export interface SettingsRole {
  role: "master" | "satellite"
  /** The master's pool id and URL, on a satellite. */
  master_pool: string | null
  master_url: string | null
}

/** 409 `settings_read_only`: this pool is a satellite; the change is made on the master (its URL). */
export class SettingsReadOnly extends Conflict {
  constructor(readonly masterUrl: string | null) {
    super(
      `this pool is a satellite: cluster settings are changed on the catalogue master${masterUrl ? ` at ${masterUrl}` : ""}, which sends them here by signed gossip`,
      "settings_read_only",
    )
  }
  override extra() {
    return { master_url: this.masterUrl }
  }
}

/**
 * The settings role from the catalogue's master record: a satellite only while the recorded master is
 * another pool this one is bonded to (not revoked). No record, or a master that is not a peer: master.
 */
export async function settingsRole(sql: Sql, catalogue: () => Promise<CatalogueRoleView>): Promise<SettingsRole> {
  const v = await catalogue()
  const own: SettingsRole = { role: "master", master_pool: null, master_url: null }
  if (v.role === "master" || !v.master) return own
  const [peer] = await sql`select 1 as ok from federation_peers where atom_id = ${v.master.pool} and revoked_at is null`
  return peer ? { role: "satellite", master_pool: v.master.pool, master_url: v.master.url } : own
}

/** The category of a setting of the configuration table, from its name. */
function categoryOf(key: string): string {
  if (/^fed|^bondPeers|^minTrustLevel|^forwarding|^peerPool/.test(key)) return "federation"
  if (/^rag/.test(key)) return "rag"
  if (/[Qq]ueue|^interactive/.test(key)) return "routing"
  if (/^worker|^provision|^autoSelfUpdate|^selfUpdate|^migration|^modelStore|^heartbeat/.test(key)) return "workers"
  if (/^trusted|^anonymous|^keyUsage|^licenseKey/.test(key)) return "access"
  return "system"
}

function shown(s: Setting, v: unknown): unknown {
  if (s.secret) return v === undefined ? undefined : "[redacted]"
  if (v && typeof v === "object" && "spec" in (v as object)) return (v as { spec: unknown }).spec
  if (v && typeof v === "object" && !Array.isArray(v)) return String(v)
  return v
}

export class AdminSettings {
  constructor(
    private readonly sql: Sql,
    private readonly config: Readonly<Config>,
    private readonly self: { atomId: string },
    private readonly publish: (kind: string, payload: unknown) => Promise<{ hlc: string; origin: string; seq: number }>,
    /** Told after a change here (live settings read it at once instead of at their next sweep). */
    private readonly changed: () => void = () => {},
    /** Master or satellite (settingsRole); absent: this pool always takes changes. */
    private readonly roleOf: () => Promise<SettingsRole> = async () => ({
      role: "master",
      master_pool: null,
      master_url: null,
    }),
    /** The cluster's sector and declared headcount, for the recommendation that fits it. */
    private readonly cluster: () => Promise<{ sector: string; headcount: number } | null> = async () => null,
  ) {}

  role(): Promise<SettingsRole> {
    return this.roleOf()
  }

  private async rows(): Promise<Map<string, Row>> {
    const rows = await this.sql<Row[]>`
      select s.key, s.value::text as value, s.hlc, s.origin, s.updated_at, p.pool_name
      from cluster_settings s left join federation_peers p on p.atom_id = s.origin`
    return new Map(rows.map((r) => [r.key, r]))
  }

  private lastChange(r: Row) {
    const pool = r.origin === this.self.atomId ? this.config.poolName : (r.pool_name ?? r.origin.slice(0, 12))
    return { at: new Date(r.updated_at).toISOString(), pool, origin: r.origin, hlc: r.hlc }
  }

  private forcedBy(def: ClusterSettingDef): Setting | undefined {
    if (!def.env) return undefined
    const s = SETTINGS.find((x) => x.key === def.env)
    return s && settingSource(this.config, s.key) !== "default" ? s : undefined
  }

  private view(
    def: ClusterSettingDef,
    row: Row | undefined,
    satellite: boolean,
    cluster: { sector: string; headcount: number } | null,
  ): SettingView {
    const forced = this.forcedBy(def)
    const env = def.env ? SETTINGS.find((x) => x.key === def.env)?.env : undefined
    return {
      key: def.key,
      category: def.category,
      editable: !forced && !satellite,
      locked: !!forced,
      type: def.type,
      value: forced
        ? (this.config as unknown as Record<string, unknown>)[forced.key]
        : row
          ? JSON.parse(row.value)
          : def.default,
      default: def.default,
      source: forced ? "environment" : row ? "admin" : "default",
      ...(env ? { env } : {}),
      restart: def.restart,
      description: def.doc,
      recommend: cluster
        ? { ...def.recommend, sector: recommendationFor(def, cluster.sector, cluster.headcount) }
        : def.recommend,
      ...(row ? { last_change: this.lastChange(row) } : {}),
    }
  }

  /** Every setting: the changeable ones first (by category), then this pool's start-up configuration. */
  async list(): Promise<SettingView[]> {
    const [rows, role, cluster] = await Promise.all([this.rows(), this.roleOf(), this.cluster()])
    const satellite = role.role === "satellite"
    const live = CLUSTER_SETTINGS.map((def) => this.view(def, rows.get(def.key), satellite, cluster))
    // Cluster-wide values without a typed definition (feature flags, moe_local_config): changeable as JSON.
    const free = [...rows.values()]
      .filter((r) => !clusterSettingDef(r.key))
      .sort((a, b) => a.key.localeCompare(b.key))
      .map(
        (r): SettingView => ({
          key: r.key,
          category: "cluster",
          editable: !satellite,
          locked: false,
          type: typeof JSON.parse(r.value),
          value: JSON.parse(r.value),
          default: undefined,
          source: "admin",
          restart: false,
          description: { en: "A cluster-wide value replicated between bonded pools." },
          last_change: this.lastChange(r),
        }),
      )
    const boot = SETTINGS.filter((s) => s.roles.includes("pool")).map(
      (s): SettingView => ({
        key: s.key,
        category: categoryOf(s.key),
        editable: false,
        locked: settingSource(this.config, s.key) !== "default",
        type: s.kind,
        value: shown(s, (this.config as unknown as Record<string, unknown>)[s.key]),
        default: s.docDefault ?? (typeof s.default === "function" ? undefined : shown(s, s.default)),
        source: settingSource(this.config, s.key) === "default" ? "default" : "environment",
        env: s.env,
        restart: true,
        description: { en: s.doc },
      }),
    )
    return [...live, ...free, ...boot]
  }

  async get(key: string): Promise<SettingView | undefined> {
    return (await this.list()).find((s) => s.key === key)
  }

  /**
   * Change a setting: typed check (400 `setting_invalid` with the reason), refused when this pool's
   * environment forces it (409 `setting_forced_by_environment`) or when it is start-up configuration
   * (409 `setting_startup_only`), or when this pool is a satellite of the catalogue master (409
   * `settings_read_only` with the master's URL; after the typed check, so the reason still shows).
   * Returns the envelope's stamp.
   */
  async change(key: string, value: unknown) {
    const def = clusterSettingDef(key)
    const boot = SETTINGS.find((s) => s.key === key && s.roles.includes("pool"))
    if (!def && boot)
      throw new Conflict(
        `${key} is start-up configuration: set ${boot.env} in the pool's environment and restart it`,
        "setting_startup_only",
      )
    if (def) {
      const forced = this.forcedBy(def)
      if (forced)
        throw new Conflict(
          `${forced.env} is set in this pool's environment and decides ${key}; remove it there to change the value here`,
          "setting_forced_by_environment",
        )
      value = def.validate(value)
    }
    const role = await this.roleOf()
    if (role.role === "satellite") throw new SettingsReadOnly(role.master_url)
    // Untyped cluster-wide keys (flags.*, moe_local_config) are checked by the federation kind.
    const env = await this.publish("setting", { key, value })
    this.changed()
    return { key, value, hlc: env.hlc, origin: env.origin, seq: env.seq }
  }
}
