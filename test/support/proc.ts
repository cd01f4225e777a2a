// Test support: start real cellule processes on free ports and always clean them up.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import type { Subprocess } from "bun"

export const ROOT = resolve(import.meta.dir, "../..")
export const BUN = join(ROOT, "node_modules/.bin/bun")
export const DIST = join(ROOT, "dist/cellule")

/** The cellule command: the compiled binary when asked, else the sources through bun. */
export function celluleCmd(compiled = false): string[] {
  return compiled ? [DIST] : [BUN, join(ROOT, "cmd/main.ts")]
}

const cleanups: (() => void | Promise<void>)[] = []

export function onCleanup(fn: () => void | Promise<void>) {
  cleanups.push(fn)
}

export async function cleanupAll() {
  while (cleanups.length) await cleanups.pop()!()
}

/** A free TCP port on loopback (bound, read, released), for a process that must keep its URL across restarts. */
export function freePort(): number {
  const s = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } })
  const port = s.port
  s.stop(true)
  return port
}

export function tempDir(prefix = "cellule-test-"): string {
  const d = mkdtempSync(join(tmpdir(), prefix))
  onCleanup(() => rmSync(d, { recursive: true, force: true }))
  return d
}

export interface Proc {
  proc: Subprocess<"ignore", "pipe", "pipe">
  stdout: () => string
  stderr: () => string
  /** Resolves with the first stdout/stderr line matching `re`, or rejects on exit/timeout. */
  waitFor(re: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>
  exited: Promise<number>
  kill(signal?: NodeJS.Signals | number): Promise<number>
}

export function spawnProc(cmd: string[], opts: { env?: Record<string, string | undefined>; cwd?: string } = {}): Proc {
  const env: Record<string, string | undefined> = { ...process.env, LOG_LEVEL: "info", ...opts.env }
  for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k]
  const proc = Bun.spawn(cmd, {
    env: env as Record<string, string>,
    cwd: opts.cwd ?? ROOT,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  })
  let out = ""
  let err = ""
  const waiters: { re: RegExp; resolve: (m: RegExpMatchArray) => void }[] = []
  const check = () => {
    for (const w of [...waiters]) {
      const m = (out + "\n" + err).match(w.re)
      if (m) {
        waiters.splice(waiters.indexOf(w), 1)
        w.resolve(m)
      }
    }
  }
  const pump = async (stream: ReadableStream<Uint8Array>, sink: (s: string) => void) => {
    const dec = new TextDecoder()
    for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>) {
      sink(dec.decode(chunk, { stream: true }))
      check()
    }
  }
  void pump(proc.stdout, (s) => (out += s))
  void pump(proc.stderr, (s) => (err += s))
  const p: Proc = {
    proc,
    stdout: () => out,
    stderr: () => err,
    exited: proc.exited,
    waitFor(re, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const m = (out + "\n" + err).match(re)
        if (m) return resolve(m)
        const t = setTimeout(
          () => reject(new Error(`timeout waiting for ${re}\nstdout:${out}\nstderr:${err}`)),
          timeoutMs,
        )
        waiters.push({ re, resolve: (m) => (clearTimeout(t), resolve(m)) })
        proc.exited.then((code) =>
          setTimeout(() => {
            clearTimeout(t)
            reject(new Error(`process exited (${code}) before ${re}\nstdout:${out}\nstderr:${err}`))
          }, 200),
        )
      })
    },
    async kill(signal = "SIGTERM") {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal as number)
      return proc.exited
    },
  }
  onCleanup(async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill("SIGKILL")
      await proc.exited
    }
  })
  return p
}

export interface PoolProc extends Proc {
  url: string
  dataDir: string
}

/** The administrator the default test setup creates (startPool without `setup: false`). */
export const TEST_ADMIN = { email: "admin@test.local", password: "test-password-123" }

/** Wizard answers for a test pool (docs/setup.md); written to a temp file for CELLULE_SETUP_ANSWERS. */
export function testSetupAnswers(overrides: Record<string, unknown> = {}): string {
  const file = join(tempDir("cellule-answers-"), "answers.json")
  const answers = {
    identity: { company: "Test & Co", sector: "LAW" },
    topology: { sites: [{ name: "HQ", headcount: 12 }] },
    models: { tiers: ["fast"] },
    admin: TEST_ADMIN,
    ...overrides,
  }
  writeFileSync(file, JSON.stringify(answers))
  return file
}

/**
 * Environment every test pool gets unless a test overrides it: anonymous LAN access on, so tests
 * that are not about API keys call the API without one. The product's default is off; tests of keys
 * and of that default pass CELLULE_ANONYMOUS_ACCESS themselves (undefined: unset, the real default).
 */
export const TEST_POOL_ENV: Record<string, string> = { CELLULE_ANONYMOUS_ACCESS: "true" }

/**
 * Start `cellule pool` on a free port and wait until it is ready. By default the first-boot wizard is
 * completed headlessly (CELLULE_SETUP_ANSWERS, admin TEST_ADMIN) so the API is open; `setup: false`
 * gives a pristine pool whose routes answer 503 cluster_setup_pending until the wizard is done.
 */
export async function startPool(
  opts: {
    dataDir?: string
    env?: Record<string, string | undefined>
    args?: string[]
    compiled?: boolean
    cwd?: string
    setup?: boolean
  } = {},
): Promise<PoolProc> {
  const dataDir = opts.dataDir ?? tempDir()
  const setupEnv = opts.setup === false ? {} : { CELLULE_SETUP_ANSWERS: testSetupAnswers() }
  const p = spawnProc(
    [
      ...celluleCmd(opts.compiled),
      "pool",
      "--port",
      "0",
      "--host",
      "127.0.0.1",
      "--data-dir",
      dataDir,
      ...(opts.args ?? []),
    ],
    {
      env: { POOL_NAME: "test-pool", ...TEST_POOL_ENV, ...setupEnv, ...opts.env },
      cwd: opts.cwd,
    },
  )
  // Generous: an embedded database takes over a minute to initialise on a loaded shared machine.
  const m = await p.waitFor(/cellule pool ready (http:\/\/\S+)/, 180_000)
  return Object.assign(p, { url: m[1], dataDir })
}

/** Environment a test pool needs for workerDetails(): admin calls from loopback (X-Cellule-User). */
export const ADMIN_FROM_LOOPBACK = { CELLULE_TRUSTED_NETWORKS: "127.0.0.1/32" }

/**
 * Each live worker with its id, hardware and slot use (GET /v1/admin/workers; the public GET /v1/workers
 * gives counts only). The pool must be started with ADMIN_FROM_LOOPBACK.
 */
export async function workerDetails<T = any>(url: string): Promise<T> {
  const res = await fetch(`${url}/v1/admin/workers`, { headers: { "x-cellule-user": TEST_ADMIN.email } })
  if (!res.ok) throw new Error(`GET /v1/admin/workers: ${res.status} ${await res.text()}`)
  return (await res.json()) as T
}

export interface WorkerProc extends Proc {
  dataDir: string
}

/** Start `cellule worker` against a pool and wait until it has joined. */
export async function startWorker(opts: {
  poolUrl: string
  token: string
  models?: string[]
  embedder?: string
  slots?: number
  threads?: number
  dataDir?: string
  compiled?: boolean
  env?: Record<string, string | undefined>
}): Promise<WorkerProc> {
  const dataDir = opts.dataDir ?? tempDir("cellule-worker-")
  const args = [
    "worker",
    "--pool",
    opts.poolUrl,
    "--token",
    opts.token,
    "--data-dir",
    dataDir,
    "--slots",
    String(opts.slots ?? 2),
    "--threads",
    String(opts.threads ?? 1),
    "--context-size",
    "1024",
    "--heartbeat-ms",
    "1000",
  ]
  for (const m of opts.models ?? []) args.push("--model", m)
  if (opts.embedder) args.push("--embedder", opts.embedder)
  const p = spawnProc([...celluleCmd(opts.compiled), ...args], { env: opts.env })
  await p.waitFor(/cellule worker ready/, 90_000)
  return Object.assign(p, { dataDir })
}

/** Start `cellule proxy` in front of `upstreams`; `logFile` takes its access log (stderr) instead of memory. */
export async function startCelluleProxy(
  upstreams: string[],
  env: Record<string, string> = {},
  logFile?: string,
): Promise<Proc & { url: string }> {
  const cmd = [...celluleCmd(), "proxy", "--host", "127.0.0.1", "--port", "0", "--upstream", upstreams.join(",")]
  // The bench sends the access log to a file, as nginx does, so the load generator does not read it.
  const p = logFile
    ? spawnProc(["bash", "-c", 'exec "$@" 2>>"$LOG_FILE"', "bash", ...cmd], { env: { LOG_FILE: logFile, ...env } })
    : spawnProc(cmd, { env })
  const m = await p.waitFor(/cellule proxy ready (http:\/\/\S+)/, 60_000)
  return Object.assign(p, { url: m[1] })
}
