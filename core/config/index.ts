// core/config — builds the one typed, frozen configuration object: flag > environment > default.
// Nothing else in the product reads process.env; a bad value stops start-up naming the variable.
import { resolve } from "node:path"
import { homedir } from "node:os"
import { ConfigError } from "../errors.ts"
import { cidrList, type CidrList } from "./cidr.ts"
import { SETTINGS, type Role, type Setting } from "./settings.ts"
import { resolveAliases, unknownVariables } from "./aliases.ts"
import { workingHours, type WorkingHours } from "./working-hours.ts"

export { SETTINGS, type Role, type Setting } from "./settings.ts"
export { ALIASES, resolveAliases, unknownVariables } from "./aliases.ts"
export type { CidrList } from "./cidr.ts"
export type { WorkingHours } from "./working-hours.ts"

export interface Config {
  role: Role
  dataDir: string
  logLevel: "silent" | "error" | "warn" | "info" | "debug" | "trace"
  logFormat: "text" | "json"
  requestLog: boolean
  ttftTrace: boolean
  poolName: string
  host: string
  port: number
  poolUrl: string
  databaseUrl?: string
  databasePoolMax: number
  /** shared_buffers of the embedded database (core/db/cache-size.ts). */
  dbCacheMb: number | "auto"
  maxJsonBodyBytes: number
  shutdownGraceMs: number
  dashboardStreamMs: number
  workerToken?: string
  setupAnswers?: string
  trustedNetworks: CidrList
  maxQueue: number
  clientQueueMax: number
  migrationExecutorEnabled: boolean
  migrationExecutorMs: number
  migrationTimeoutMs: number
  migrationCooldownMs: number
  workersAutoLatencyRouting: boolean
  latencyProbeMs: number
  latencyStableObservations: number
  latencyMinGainMs: number
  balancerIntervalMs: number
  interactiveReserve: number
  interactiveWindowMs: number
  /** Unset: the cluster-wide dashboard switch decides (see core/auth/anonymous-access.ts). */
  anonymousAccess?: boolean
  keyUsageSyncMs: number
  queueTimeoutMs: number
  heartbeatMs: number
  fedMode: "active" | "observe" | "off"
  fedGossipEnabled: boolean
  fedKeyDir: string
  fedRekey: boolean
  fedAtomId?: string
  forwarding: boolean
  licenseKey?: string
  minTrustLevel: number
  bondPeers: string[]
  fedAllowLoopbackUrl: boolean
  fedGossipMs: number
  fedAntiEntropyMs: number
  fedProbeMs: number
  fedPeerTimeoutMs: number
  fedPeerBackoffMaxMs: number
  fedRejectsMaxAgeDays: number
  fedRejectsMaxRows: number
  poolConnectUrl?: string
  token?: string
  models: string[]
  embedderPath?: string
  workerMetricsListen?: string
  threads: number
  slots: number
  contextSize: number
  gpu: "auto" | "off"
  provisionCodeTtlMs: number
  modelStoreDir: string
  modelUploadMaxBytes: number
  catalogueMaster: boolean
  catalogueSyncMs: number
  catalogueCopyTimeoutMs: number
  gpuLargeMinVramMb: number
  assignmentPollMs: number
  gpuSmallMinVramMb: number
  workerBinariesDir?: string
  peerPoolUrls: string[]
  autoSelfUpdate: boolean
  selfUpdateCooldownMs: number
  workerWorkingHours?: WorkingHours
  workerThrottledPct?: number
  workerBusyPct?: number
  workerConfigFile?: string
  workerName?: string
  poolKey?: string
  allowUnsignedUpdates: boolean
  upgradeHealthTimeoutMs: number
  auto: boolean
  hardwareClass: "auto" | "cpu-mid" | "gpu-small" | "gpu-large" | "apple-m"
  modelCacheMb: number
  failoverMode: "auto" | "manual"
  failoverFailingMs: number
  failoverDownMs: number
  failoverRetryMs: number
  failoverStickyMs: number
  failoverFailsafeMs: number
  activityWatch: "auto" | "cpu" | "off"
  activityThrottledPct: number
  activityBusyPct: number
  activityIntervalMs: number
  activityFile?: string
  activityInputActiveMs: number
  activityInputFile?: string
  trustedProxies: CidrList
  proxyHost: string
  proxyPort: number
  proxyUpstreams: string[]
  proxyUpstreamsFile?: string
  proxyDiscover: boolean
  proxyDiscoverIntervalMs: number
  proxyMaxFails: number
  proxyFailTimeoutMs: number
  proxyHealthIntervalMs: number
  proxyReadTimeoutMs: number
  proxyConnectTimeoutMs: number
  proxyMaxBodyBytes: number
  proxyTlsCert?: string
  proxyTlsKey?: string
  ragMaxDocumentBytes: number
  ragChunkTokens: number
  ragChunkOverlap: number
  ragEmbedderWaitMs: number
  ragLeaseMs: number
  ragEmbeddingModel?: string
}

type Flags = Record<string, unknown>
type Env = Record<string, string | undefined>

/** The settings that apply to a role. */
export function settingsFor(role: Role): Setting[] {
  return SETTINGS.filter((s) => s.roles.includes(role))
}

function parseValue(s: Setting, raw: unknown, source: string): unknown {
  const where = source === "flag" ? `--${s.flag}` : s.env
  if (s.kind === "list" || s.kind === "cidrs") {
    const items = (Array.isArray(raw) ? raw : [raw]).flatMap((v) => String(v).split(","))
    const list = items.map((v) => v.trim()).filter(Boolean)
    return s.kind === "cidrs" ? cidrList(list, where) : list
  }
  const str = String(raw).trim()
  switch (s.kind) {
    case "hours":
      try {
        return workingHours(str)
      } catch (e) {
        throw new ConfigError(`${where}: ${(e as Error).message}`)
      }
    case "int-or-auto":
      if (str === "auto") return str
      if (!/^\d+$/.test(str)) throw new ConfigError(`${where} must be "auto" or a whole number, got "${str}"`)
      return parseValue({ ...s, kind: "int" }, raw, source)
    case "int": {
      if (!/^-?\d+$/.test(str)) throw new ConfigError(`${where} must be a whole number, got "${str}"`)
      const n = Number(str)
      if (s.min !== undefined && n < s.min) throw new ConfigError(`${where} must be at least ${s.min}, got ${n}`)
      if (s.max !== undefined && n > s.max) throw new ConfigError(`${where} must be at most ${s.max}, got ${n}`)
      return n
    }
    case "bool": {
      if (typeof raw === "boolean") return raw
      if (/^(1|true|yes|on)$/i.test(str)) return true
      if (/^(0|false|no|off)$/i.test(str)) return false
      throw new ConfigError(`${where} must be true or false, got "${str}"`)
    }
    case "enum":
      if (!s.values!.includes(str))
        throw new ConfigError(`${where} must be one of ${s.values!.join(", ")}, got "${str}"`)
      return str
    case "path":
      if (!str) throw new ConfigError(`${where} must not be empty`)
      return resolve(str.replace(/^~(?=$|\/)/, homedir()))
    case "url": {
      if (s.key === "databaseUrl") {
        if (!/^postgres(ql)?:\/\//.test(str)) throw new ConfigError(`${where} must be a postgres:// URL`)
        return str
      }
      let u: URL
      try {
        u = new URL(str)
      } catch {
        throw new ConfigError(`${where} must be a URL like http://host:8080, got "${str}"`)
      }
      if (!/^(https?|wss?):$/.test(u.protocol)) throw new ConfigError(`${where} must be an http(s) URL, got "${str}"`)
      return str.replace(/\/+$/, "")
    }
    default:
      if (!str) throw new ConfigError(`${where} must not be empty`)
      return str
  }
}

/**
 * Build the configuration of `role` from parsed flags and the environment; `file` is a lower layer
 * keyed by env var name (a worker's installer-written config.json): flag > env > file > default.
 */
export function loadConfig(role: Role, flags: Flags = {}, rawEnv: Env = process.env, file: Env = {}): Readonly<Config> {
  // The admin guide's names (IAMINE_FED…) count as their CELLULE_* setting; a CELLULE_* value wins.
  const env = resolveAliases(rawEnv).env
  const out: Record<string, unknown> = { role }
  const sources: Record<string, SettingSource> = {}
  // Settings are resolved in table order so computed defaults can use earlier values (POOL_URL uses PORT).
  for (const s of SETTINGS) {
    if (!s.roles.includes(role) && s.key !== "dataDir") continue
    const flagValue = flags[s.flag] ?? flags[s.key]
    const present = (v: unknown) => v !== undefined && v !== null && v !== "" && !(Array.isArray(v) && v.length === 0)
    sources[s.key] = present(flagValue)
      ? "flag"
      : present(env[s.env])
        ? "environment"
        : present(file[s.env])
          ? "file"
          : "default"
    if (present(flagValue)) out[s.key] = parseValue(s, flagValue, "flag")
    else if (present(env[s.env])) out[s.key] = parseValue(s, env[s.env], "env")
    else if (present(file[s.env])) out[s.key] = parseValue(s, file[s.env], "env")
    else if (s.kind === "cidrs") out[s.key] = cidrList([], s.env)
    else
      out[s.key] =
        typeof s.default === "function" ? (s.default as (p: Record<string, unknown>) => unknown)(out) : s.default
  }
  const secrets = SETTINGS.filter((s) => s.secret).map((s) => s.key)
  Object.defineProperty(out, "toJSON", {
    enumerable: false,
    value: () =>
      Object.fromEntries(Object.entries(out).map(([k, v]) => [k, secrets.includes(k) && v ? "[redacted]" : v])),
  })
  Object.defineProperty(out, "toString", { enumerable: false, value: () => JSON.stringify(out) })
  Object.defineProperty(out, SOURCES, { enumerable: false, value: Object.freeze(sources) })
  return Object.freeze(out) as unknown as Config
}

/** Where a resolved setting came from: a command-line flag, the environment, the worker's config file, or its default. */
export type SettingSource = "flag" | "environment" | "file" | "default"
const SOURCES = Symbol("cellule.config.sources")

/** The source of `key` in a configuration built by loadConfig ("default" for one built by hand in a test). */
export function settingSource(config: Readonly<Config>, key: string): SettingSource {
  return (config as unknown as { [SOURCES]?: Record<string, SettingSource> })[SOURCES]?.[key] ?? "default"
}

/** citty `args` declared from the settings table, so flags and docs come from one place. */
export function cittyArgs(role: Role) {
  const args: Record<string, { type: "string" | "boolean"; description: string; required?: boolean }> = {}
  for (const s of settingsFor(role)) {
    args[s.flag] = { type: s.kind === "bool" ? "boolean" : "string", description: `${s.doc} [${s.env}]` }
  }
  return args
}

/**
 * The boot report: one line per guide alias used (naming its CELLULE_* setting, and which wins when both
 * differ) and one per unknown CELLULE_* / IAMINE_* variable. Each role's command logs these as warnings.
 */
export function configWarnings(env: Env = process.env): string[] {
  return [...resolveAliases(env).warnings, ...unknownVariables(env)]
}
