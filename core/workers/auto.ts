// core/workers/auto — `cellule worker --auto`: read the installer's config.json, detect the hardware
// class, ask the pool which model that class serves, download it (resumable, verified, cached) and cap
// the context from (V)RAM. Also the upgrade marker that lets a bad new binary roll itself back.
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import type { Config } from "../config/index.ts"
import { CelluleError, ConfigError } from "../errors.ts"
import { logger } from "../log.ts"
import { classify, ctxCapFor, detectHardware, modelMemoryMb } from "./hardware.ts"
import { downloadModel } from "./download.ts"
import type { HardwareClass } from "./protocol.ts"
import type { ModelSpec } from "./agent.ts"
import { rollback } from "./upgrade.ts"

const log = logger("workers.auto")

/** config.json keys (as written by the installer) → the settings' env names, a layer under env. */
const FILE_KEYS: Record<string, string> = {
  pool: "CELLULE_POOL",
  token: "CELLULE_TOKEN",
  data_dir: "CELLULE_DATA_DIR",
  hardware_class: "CELLULE_HARDWARE_CLASS",
  failover_mode: "CELLULE_FAILOVER_MODE",
  model_cache_mb: "CELLULE_MODEL_CACHE_MB",
  pool_key: "CELLULE_POOL_KEY",
  name: "CELLULE_WORKER_NAME",
}

export function readWorkerConfigFile(path: string): Record<string, string> {
  let json: Record<string, unknown>
  try {
    json = JSON.parse(readFileSync(path, "utf8"))
  } catch (e) {
    throw new ConfigError(
      `cannot read the worker config ${path}: ${(e as Error).message}`,
      "re-run the installer with a new provisioning code",
    )
  }
  const out: Record<string, string> = {}
  for (const [k, env] of Object.entries(FILE_KEYS))
    if (json[k] !== undefined && json[k] !== null) out[env] = String(json[k])
  return out
}

export interface AutoPlan {
  hardwareClass: HardwareClass
  models: ModelSpec[]
  contextSize: number
  /** SHA-256 of the assigned model: a change means the admin assigned another one. */
  sha256: string
}

type Assigned = { id: string; file_name: string; size: number; sha256: string; url: string }

/** GET /v1/worker/assignment for this class; throws a 401 CelluleError when the token is refused. */
async function fetchAssignment(config: Readonly<Config>, hardwareClass: HardwareClass): Promise<Assigned> {
  const pool = config.poolConnectUrl!
  const res = await fetch(`${pool}/v1/worker/assignment?class=${hardwareClass}`, {
    headers: { authorization: `Bearer ${config.token}` },
    signal: AbortSignal.timeout(15_000),
  })
  const body = (await res.json().catch(() => ({}))) as { model?: Assigned; error?: string; message?: string }
  if (res.status === 401)
    throw new CelluleError(
      body.error ?? "worker_token_invalid",
      `the pool refused this worker's token: ${body.message ?? res.status}`,
      401,
      "the token was revoked: enrol the machine again",
    )
  if (!res.ok || !body.model) throw new Error(`${body.error ?? res.status}: ${body.message ?? "no model"}`)
  return body.model
}

async function download(config: Readonly<Config>, m: Assigned): Promise<string> {
  return downloadModel({
    url: new URL(m.url, config.poolConnectUrl!).toString(),
    token: config.token!,
    fileName: m.file_name,
    size: m.size,
    sha256: m.sha256,
    cacheDir: join(config.dataDir, "models"),
    limitBytes: config.modelCacheMb * 2 ** 20,
  })
}

/** Ask the pool for this class's model and make sure it is in the cache; retries until `signal`. */
export async function prepareAuto(config: Readonly<Config>, signal?: AbortSignal): Promise<AutoPlan> {
  const hw = detectHardware({ gpu: config.gpu })
  const hardwareClass = config.hardwareClass === "auto" ? classify(hw, config) : config.hardwareClass
  const cap = ctxCapFor(modelMemoryMb(hw))
  const contextSize = Math.min(config.contextSize, cap)
  log.info(
    `hardware class ${hardwareClass} (${hw.cpu_threads} threads, ${hw.ram_mb} MB RAM${hw.vram_mb ? `, ${hw.vram_mb} MB VRAM ${hw.gpu ?? ""}` : ""}); context ${contextSize} (cap ${cap})`,
  )
  const pool = config.poolConnectUrl!
  for (let attempt = 0; ; attempt++) {
    try {
      const m = await fetchAssignment(config, hardwareClass)
      const path = await download(config, m)
      return { hardwareClass, models: [{ id: m.id, path }], contextSize, sha256: m.sha256 }
    } catch (e) {
      if (e instanceof CelluleError && e.status === 401) throw e
      if (signal?.aborted) throw e
      const delay = Math.min(30_000, 1000 * 2 ** attempt) * (0.5 + Math.random() / 2)
      log.warn(
        `cannot get this worker's model from ${pool} (${(e as Error).message}); retrying in ${Math.round(delay)} ms`,
      )
      await Bun.sleep(delay)
    }
  }
}

/**
 * Issue 18: a worker picks up a new assignment without a restart. Polls the pool every
 * CELLULE_ASSIGNMENT_POLL_MS; when its class now names another model, downloads it (the old one keeps
 * serving meanwhile) and resolves with the new plan; the caller drains and reloads. Never rejects:
 * a pool that cannot be reached is asked again at the next tick; resolves undefined when `signal` fires.
 */
export async function watchAssignment(
  config: Readonly<Config>,
  current: AutoPlan,
  signal: AbortSignal,
): Promise<AutoPlan | undefined> {
  while (!signal.aborted) {
    await new Promise<void>((r) => {
      const t = setTimeout(r, config.assignmentPollMs)
      signal.addEventListener("abort", () => (clearTimeout(t), r()), { once: true })
    })
    if (signal.aborted) return undefined
    try {
      const m = await fetchAssignment(config, current.hardwareClass)
      if (m.sha256 === current.sha256) continue
      log.info(`the pool now assigns ${m.file_name} to ${current.hardwareClass}; downloading it`)
      const path = await download(config, m)
      if (signal.aborted) return undefined
      return { ...current, models: [{ id: m.id, path }], sha256: m.sha256 }
    } catch (e) {
      log.warn(`assignment check failed (${(e as Error).message}); trying again later`)
    }
  }
  return undefined
}

/** Marker written when a new binary is swapped in; cleared once the new binary has joined its pool. */
export const upgradeMarker = (dataDir: string) => join(dataDir, "upgrade-pending.json")

export function noteUpgradeInstalled(dataDir: string, exePath: string, from: string, to: string) {
  writeFileSync(upgradeMarker(dataDir), JSON.stringify({ exe: exePath, from, to, starts: 0 }))
}

/**
 * At start-up of a just-upgraded binary: count the start; after `maxStarts` starts that never joined
 * the pool, put the previous binary back and report it (the caller exits; the service restarts the old one).
 */
export function checkUpgradeHealth(
  dataDir: string,
  maxStarts = 2,
): { rolledBack: boolean; from?: string; to?: string } {
  const file = upgradeMarker(dataDir)
  if (!existsSync(file)) return { rolledBack: false }
  const m = JSON.parse(readFileSync(file, "utf8")) as { exe: string; from: string; to: string; starts: number }
  m.starts++
  if (m.starts > maxStarts) {
    rmSync(file, { force: true })
    rollback(m.exe)
    return { rolledBack: true, from: m.from, to: m.to }
  }
  writeFileSync(file, JSON.stringify(m))
  return { rolledBack: false, from: m.from, to: m.to }
}

/** The new binary joined its pool: the upgrade is committed, the old binary can go. */
export function commitUpgrade(dataDir: string) {
  const file = upgradeMarker(dataDir)
  if (!existsSync(file)) return
  const m = JSON.parse(readFileSync(file, "utf8")) as { exe: string }
  rmSync(`${m.exe}.old`, { force: true })
  rmSync(file, { force: true })
  log.info("self-update committed (previous binary removed)")
}
