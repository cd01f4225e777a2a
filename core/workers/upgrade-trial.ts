// core/workers/upgrade-trial — the old binary decides whether a staged upgrade is healthy: it runs
// `<exe>.new` with the worker's own arguments and waits for it to report that it joined its pool.
// A new binary that crashes, hangs or never joins is discarded without ever having been swapped in,
// so the rollback never depends on the new binary reaching a line of its own code.
import { rmSync } from "node:fs"
import { systemClock } from "../clock.ts"
import { CelluleError } from "../errors.ts"
import { logger } from "../log.ts"
import { VERSION } from "../version.ts"
import { recordForNextAgent } from "./agent-audit.ts"
import { noteUpgradeInstalled } from "./auto.ts"
import { swapStaged } from "./upgrade.ts"

const log = logger("workers.upgrade")

/** What a healthy worker prints once it joined its pool (cmd/worker.ts). */
export const READY_LINE = /cellule worker ready /

export type TrialResult = { healthy: true; ms: number } | { healthy: false; reason: string }

/**
 * Run the staged binary as this worker (same arguments and environment) for at most `timeoutMs`;
 * healthy once it prints the ready line, then stopped gracefully. Unhealthy: killed and deleted.
 */
export async function trialStaged(opts: {
  exePath: string
  args: string[]
  timeoutMs: number
  graceMs: number
}): Promise<TrialResult> {
  const staged = `${opts.exePath}.new`
  const t0 = Date.now()
  log.info(`self-update: trying the new binary (must join its pool within ${opts.timeoutMs} ms)`)
  let child: ReturnType<typeof Bun.spawn>
  try {
    child = Bun.spawn([staged, ...opts.args], { stdin: "ignore", stdout: "pipe", stderr: "pipe" })
  } catch (e) {
    rmSync(staged, { force: true })
    return { healthy: false, reason: `the new binary could not be started: ${(e as Error).message}` }
  }
  let tail = ""
  let ready = false
  const watch = async (stream: ReadableStream<Uint8Array>) => {
    const dec = new TextDecoder()
    const reader = stream.getReader()
    for (;;) {
      const { done, value } = await reader.read()
      if (done) return
      tail = (tail + dec.decode(value)).slice(-4000)
      if (READY_LINE.test(tail)) ready = true
    }
  }
  const streams = Promise.all([
    watch(child.stdout as ReadableStream<Uint8Array>),
    watch(child.stderr as ReadableStream<Uint8Array>),
  ]).catch(() => {})
  const verdict = await new Promise<TrialResult>((resolve) => {
    const timer = setTimeout(
      () => resolve({ healthy: false, reason: `the new binary did not report healthy within ${opts.timeoutMs} ms` }),
      opts.timeoutMs,
    )
    const poll = setInterval(() => {
      if (!ready) return
      clearInterval(poll)
      clearTimeout(timer)
      resolve({ healthy: true, ms: Date.now() - t0 })
    }, 50)
    void child.exited.then((code) => {
      // Give the ready check one more look: output and exit can arrive in the same tick.
      setTimeout(() => {
        if (ready) return
        clearInterval(poll)
        clearTimeout(timer)
        resolve({
          healthy: false,
          reason: `the new binary exited (${code ?? child.signalCode}) before joining its pool`,
        })
      }, 100)
    })
  })
  if (child.exitCode === null && child.signalCode === null) {
    child.kill(verdict.healthy ? "SIGTERM" : "SIGKILL")
    const stopped = await Promise.race([
      child.exited.then(() => true),
      Bun.sleep(opts.graceMs + 5000).then(() => false),
    ])
    if (!stopped) {
      child.kill("SIGKILL")
      await child.exited
    }
  }
  await streams
  if (!verdict.healthy) {
    rmSync(staged, { force: true })
    log.warn(`self-update: ${verdict.reason}; keeping the running binary. Its last words: ${tail.trim().slice(-300)}`)
  } else log.info(`self-update: the new binary joined its pool in ${verdict.ms} ms`)
  return verdict
}

/**
 * After the agent stopped for a staged upgrade: try the new binary; healthy, swap it in; not, keep the
 * running one and leave the verdict for the pool's audit log. Either way the process exits (the error
 * thrown) so the service manager starts whichever binary is now in place.
 */
export async function finishSelfUpdate(o: {
  exePath: string
  dataDir: string
  version: string
  args: string[]
  timeoutMs: number
  graceMs: number
}): Promise<never> {
  const verdict = await trialStaged(o)
  if (verdict.healthy) {
    swapStaged(o.exePath, o.version)
    noteUpgradeInstalled(o.dataDir, o.exePath, VERSION, o.version)
    throw new CelluleError(
      "restarting_for_upgrade",
      `upgraded to ${o.version}; exiting so the service manager starts the new binary`,
      500,
    )
  }
  recordForNextAgent(o.dataDir, systemClock, "self_update_rolled_back", {
    to: o.version,
    from: VERSION,
    error: verdict.reason,
  })
  throw new CelluleError(
    "upgrade_rolled_back",
    `${verdict.reason}; v${VERSION} stays: exiting so the service manager restarts it`,
    500,
  )
}
