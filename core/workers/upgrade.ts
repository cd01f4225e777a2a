// core/workers/upgrade — zero-touch upgrades (FR guide §2.5). Pool side: decide, at each hello,
// whether an older worker gets welcome.upgrade + self_update (toggle, 10 min cooldown per worker).
// Worker side: download the new binary, check its hash, swap it in atomically keeping the old one,
// and prove the new one starts; otherwise put the old one back.
import { chmodSync, copyFileSync, existsSync, renameSync, rmSync } from "node:fs"
import type { Clock } from "../clock.ts"
import type { Config } from "../config/index.ts"
import { CelluleError } from "../errors.ts"
import { logger } from "../log.ts"
import { VERSION } from "../version.ts"
import { sha256File } from "../crypto/hash.ts"
import { binaryFor, targetName } from "./binaries.ts"
import type { UpgradeOffer, WorkerMessage } from "./protocol.ts"
import { signRelease, type ReleaseKey } from "./release-key.ts"
import { acceptedReleaseKeys, offerSignedByAny } from "./peer-release-keys.ts"

const log = logger("workers.upgrade")

/** -1, 0, 1 comparing dotted numeric versions (pre-release suffixes sort before the release). */
export function compareVersions(a: string, b: string): number {
  const parse = (v: string) => {
    const [core, pre] = v.replace(/^v/, "").split("-", 2)
    return { nums: core.split(".").map((n) => Number.parseInt(n, 10) || 0), pre: pre ?? "" }
  }
  const x = parse(a)
  const y = parse(b)
  for (let i = 0; i < Math.max(x.nums.length, y.nums.length); i++) {
    const d = (x.nums[i] ?? 0) - (y.nums[i] ?? 0)
    if (d) return Math.sign(d)
  }
  if (x.pre === y.pre) return 0
  if (!x.pre) return 1
  if (!y.pre) return -1
  return x.pre < y.pre ? -1 : 1
}

/** Pool side: the upgrade offer for a hello, or undefined. */
export function upgradePolicy(opts: {
  config: Readonly<Config>
  clock: Clock
  version?: string
  releaseKey?: ReleaseKey
}) {
  const lastPush = new Map<string, number>()
  return async (hello: Extract<WorkerMessage, { type: "hello" }>): Promise<UpgradeOffer | undefined> => {
    const poolVersion = opts.version ?? VERSION
    if (!opts.config.autoSelfUpdate || compareVersions(hello.version, poolVersion) >= 0) return undefined
    const now = opts.clock.now()
    const last = lastPush.get(hello.worker_id)
    if (last !== undefined && now - last < opts.config.selfUpdateCooldownMs) {
      log.info(`worker ${hello.name} outdated: v${hello.version} → v${poolVersion} (self_update cooling down)`)
      return undefined
    }
    let bin: Awaited<ReturnType<typeof binaryFor>>
    try {
      bin = await binaryFor(opts.config, targetName(hello.hardware.os, hello.hardware.arch))
    } catch {
      log.warn(
        `worker ${hello.name} outdated: v${hello.version} → v${poolVersion}, but this pool ships no ${targetName(hello.hardware.os, hello.hardware.arch)}`,
      )
      return undefined
    }
    if (compareVersions(hello.version, bin.version) >= 0) return undefined
    lastPush.set(hello.worker_id, now)
    log.info(`worker ${hello.name} outdated: v${hello.version} → v${bin.version}; pushing self_update`)
    const signature = opts.releaseKey ? signRelease(opts.releaseKey, bin.version, bin.sha256) : undefined
    return {
      version: bin.version,
      url: `/v1/install/bin/${bin.name}`,
      sha256: bin.sha256,
      ...(signature ? { signature } : {}),
    }
  }
}

export class UpgradeFailed extends CelluleError {
  constructor(message: string, options?: ErrorOptions) {
    super("upgrade_failed", message, 500, undefined, options)
  }
}

export class UnsignedUpdateRefused extends CelluleError {
  constructor(version: string) {
    super(
      "update_unsigned",
      `the offer of v${version} cannot be verified: this worker has no pool release key; refused`,
      403,
      "enrol the machine again (its worker.json gets pool_key), set CELLULE_POOL_KEY, or for development only CELLULE_ALLOW_UNSIGNED_UPDATES=1",
    )
  }
}

export interface StageOptions {
  poolUrl: string
  token: string
  exePath: string
  /** The pool's release key (enrolment's pool_key); without it offers are refused unless allowUnsigned. */
  poolKey?: string
  /** Bonded peers' release keys its primary handed over (welcome.peer_release_keys): URL → key. */
  peerKeys?: Readonly<Record<string, string>>
  /** Development only (CELLULE_ALLOW_UNSIGNED_UPDATES): trust the pool connection alone. */
  allowUnsigned?: boolean
  fetch?: typeof fetch
}

/**
 * Worker side, step 1: download the offered binary next to `exePath` as `<exe>.new`, after checking
 * its signature, then its SHA-256, and that it answers `--version` with the offered version. Nothing
 * is swapped here: the old binary decides whether the new one is healthy (upgrade-trial.ts).
 */
export async function stageUpgrade(offer: UpgradeOffer, opts: StageOptions): Promise<string> {
  const doFetch = opts.fetch ?? fetch
  // The signature is checked before anything is downloaded: an unsigned or forged offer costs nothing.
  // Signed by the enrolment's pool key, or by the key the primary named for the peer we are on now.
  const keys = acceptedReleaseKeys(opts.poolUrl, opts.poolKey, opts.peerKeys)
  if (keys.length) {
    if (!offerSignedByAny(offer, keys)) {
      throw new UpgradeFailed(
        `the offer of v${offer.version} is not signed by this worker's pool key nor by ${opts.poolUrl}'s release key; refused`,
      )
    }
  } else if (!opts.allowUnsigned) throw new UnsignedUpdateRefused(offer.version)
  else log.warn("self-update: no pool key and CELLULE_ALLOW_UNSIGNED_UPDATES set: trusting the pool connection alone")
  const url = new URL(offer.url, opts.poolUrl).toString()
  const next = `${opts.exePath}.new`
  log.info(`self-update: downloading v${offer.version} from ${url}`)
  const res = await doFetch(url, { headers: { authorization: `Bearer ${opts.token}` } })
  if (!res.ok) throw new UpgradeFailed(`pool answered ${res.status} for the new binary`)
  // Whatever fails from here (a cut download, a bad hash, a binary that cannot be run) leaves no
  // `<exe>.new` behind: a half-written file must never be what the trial or an operator finds.
  try {
    await Bun.write(next, res)
    const got = await sha256File(next)
    if (got !== offer.sha256)
      throw new UpgradeFailed(`the new binary does not match its SHA-256 (got ${got.slice(0, 12)}…)`)
    chmodSync(next, 0o755)
    const probe = await runVersion(next)
    const said = probe.stdout.toString().trim()
    if (probe.exitCode !== 0 || said !== offer.version)
      throw new UpgradeFailed(
        `the new binary does not start (exit ${probe.exitCode}, said ${JSON.stringify(said.slice(0, 80))}); keeping v${VERSION}`,
      )
    return next
  } catch (e) {
    rmSync(next, { force: true })
    throw e
  }
}

/**
 * `<bin> --version`. A file written a moment ago can still be open for writing in a child that another
 * thread of this process forked meanwhile (until that child execs): exec then fails with ETXTBSY, which
 * says nothing about the binary, so it is tried again for up to ~0.75 s.
 */
export async function runVersion(bin: string, attempts = 5) {
  for (let attempt = 1; ; attempt++) {
    try {
      return Bun.spawnSync([bin, "--version"], { stdout: "pipe", stderr: "pipe", timeout: 30_000 })
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ETXTBSY" || attempt >= attempts) throw e
      await Bun.sleep(50 * attempt)
    }
  }
}

/** Step 3, once the staged binary proved healthy: swap it in, keeping the running one as `<exe>.old`. */
export function swapStaged(exePath: string, version: string) {
  const old = `${exePath}.old`
  // Copy then rename: the running binary stays valid on disk under .old until the restart.
  copyFileSync(exePath, old)
  renameSync(`${exePath}.new`, exePath)
  log.info(
    `self-update: v${version} installed (previous binary kept as ${old}); restarting through the service manager`,
  )
}

/** At start-up: if a just-upgraded binary is failing, put `<exe>.old` back. */
export function rollback(exePath: string): boolean {
  const old = `${exePath}.old`
  if (!existsSync(old)) return false
  renameSync(old, exePath)
  log.warn(`self-update: rolled back to the previous binary`)
  return true
}
