// The embedded database is reachable only by the pool's own OS user: another local user can neither
// connect to it (no TCP port, a socket in a 0700 directory) nor read or write its files.
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { chmodSync, lstatSync, readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { cleanupAll, startPool, tempDir, type PoolProc } from "../support/proc.ts"

const PROBE = `cprobe${process.pid}`
let pool: PoolProc
let db: { url?: string; socketDir?: string }

const sh = (cmd: string[]) => Bun.spawnSync(cmd, { stdout: "pipe", stderr: "pipe", env: { PATH: process.env.PATH! } })
/** Runs `cmd` as the throw-away local user. */
const asProbe = (...cmd: string[]) => sh(["runuser", "-u", PROBE, "--", ...cmd])
const psqlAsProbe = (...conn: string[]) =>
  asProbe("psql", ...conn, "-w", "-Atc", "select count(*) from admin_users", "-v", "ON_ERROR_STOP=1")

beforeAll(async () => {
  const add = sh(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", PROBE])
  if (add.exitCode !== 0) throw new Error(`useradd failed: ${add.stderr}`)
  // A data dir others may traverse, as a packaged /var/lib/cellule (0755) would be: the database itself must hold.
  const dataDir = tempDir()
  chmodSync(dataDir, 0o755)
  pool = await startPool({ dataDir })
  db = JSON.parse(readFileSync(join(dataDir, "embedded-db.json"), "utf8"))
}, 120_000)

afterAll(async () => {
  await cleanupAll()
  sh(["userdel", PROBE])
})

/** Every TCP port the pool process listens on. */
function tcpPorts(pid: number): number[] {
  const out = sh(["ss", "-Hltnp"]).stdout.toString()
  return out
    .split("\n")
    .filter((l) => l.includes(`pid=${pid},`))
    .map((l) => Number(l.trim().split(/\s+/)[3].split(":").pop()))
}

describe("the embedded database and another local user", () => {
  test("the pool listens on no TCP port but its HTTP port; another user cannot connect to the database", () => {
    const httpPort = Number(new URL(pool.url).port)
    const ports = tcpPorts(pool.proc.pid)
    for (const port of ports.filter((p) => p !== httpPort)) {
      const r = psqlAsProbe(`postgresql://postgres:postgres@127.0.0.1:${port}/postgres`)
      expect(
        `port ${port}: ${r.exitCode === 0 ? `read admin_users (${r.stdout.toString().trim()} rows)` : "refused"}`,
      ).toBe(`port ${port}: refused`)
    }
    expect(ports).toEqual([httpPort])
    expect(db.socketDir).toBeString()
    const probe = psqlAsProbe("-h", db.socketDir!, "-U", "postgres", "postgres")
    expect(probe.exitCode).not.toBe(0)
    expect(probe.stderr.toString()).toMatch(/Permission denied/)
  })

  test("the pool's own OS user still reaches it through the socket (psql -h <socket dir>)", () => {
    const r = sh([
      "psql",
      "-h",
      db.socketDir!,
      "-U",
      "postgres",
      "-w",
      "-Atc",
      "select count(*) from admin_users",
      "postgres",
    ])
    expect(r.stderr.toString()).toBe("")
    expect(Number(r.stdout.toString().trim())).toBe(1)
  })

  test("pgdata and the socket directory are 0700, every file in pgdata 0600", () => {
    const pgdata = join(pool.dataDir, "pgdata")
    const wrong: string[] = []
    const walk = (p: string) => {
      const st = lstatSync(p)
      const mode = st.mode & 0o777
      if (st.isDirectory()) {
        if (mode !== 0o700) wrong.push(`${p} ${mode.toString(8)}`)
        for (const n of readdirSync(p)) walk(join(p, n))
      } else if (!st.isSymbolicLink() && mode !== 0o600) wrong.push(`${p} ${mode.toString(8)}`)
    }
    walk(pgdata)
    expect(wrong.slice(0, 5)).toEqual([])
    expect(lstatSync(db.socketDir!).mode & 0o777).toBe(0o700)
  })

  test("another user can neither read nor write a database file", () => {
    const file = join(pool.dataDir, "pgdata", "PG_VERSION")
    expect(asProbe("cat", file).exitCode).not.toBe(0)
    expect(asProbe("sh", "-c", `echo x >> '${file}'`).exitCode).not.toBe(0)
    expect(asProbe("ls", join(pool.dataDir, "pgdata")).exitCode).not.toBe(0)
    expect(readFileSync(file, "utf8").trim()).toMatch(/^\d+$/)
  })
})
