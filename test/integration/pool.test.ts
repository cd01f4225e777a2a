// `cellule pool` as a real process: health, persistence, the data-dir lock, migrations, databases.
import { afterEach, describe, expect, test } from "bun:test"
import postgres from "postgres"
import { cleanupAll, spawnProc, celluleCmd, startPool, tempDir, DIST } from "../support/proc.ts"
import { startDebianPostgres } from "../support/postgres.ts"
import { startSocketDatabase } from "../support/socket-db.ts"
import { runningEmbedded } from "../../core/db/embedded.ts"
import { openDatabase } from "../../core/db/client.ts"

afterEach(cleanupAll)

async function status(url: string) {
  const r = await fetch(`${url}/v1/status`)
  return { code: r.status, body: (await r.json()) as Record<string, unknown> }
}

describe("cellule pool", () => {
  test("serves /v1/status with db ok on the embedded database", async () => {
    const pool = await startPool()
    const s = await status(pool.url)
    expect(s.code).toBe(200)
    expect(s.body).toMatchObject({ status: "ok", db: "ok", pool_name: "test-pool", db_mode: "embedded" })
    expect(typeof s.body.version).toBe("string")
    expect(typeof s.body.uptime_s).toBe("number")
  })

  test("a restarted pool keeps the rows written through the wire protocol", async () => {
    const dataDir = tempDir()
    const first = await startPool({ dataDir })
    const sql = postgres({ ...runningEmbedded(dataDir)!, max: 1 })
    await sql`insert into pool_settings (key, value) values ('survives', ${sql.json({ n: 42 })})`
    await sql.end()
    expect(await first.kill("SIGTERM")).toBe(0)
    expect(runningEmbedded(dataDir)).toBeUndefined()

    await startPool({ dataDir })
    const sql2 = postgres({ ...runningEmbedded(dataDir)!, max: 1 })
    const [row] = await sql2`select value from pool_settings where key = 'survives'`
    await sql2.end()
    expect(row.value).toEqual({ n: 42 })
  })

  test("a second pool on the same data dir exits with a lock message; the first keeps serving", async () => {
    const first = await startPool()
    const second = spawnProc([...celluleCmd(), "pool", "--port", "0", "--data-dir", first.dataDir])
    expect(await second.exited).not.toBe(0)
    expect(second.stderr()).toContain(`data dir ${first.dataDir} is in use by another cellule process`)
    expect((await status(first.url)).code).toBe(200)
  })

  test("a pool killed with SIGKILL leaves a stale lock that the next start takes over", async () => {
    const first = await startPool()
    await first.kill("SIGKILL")
    const again = await startPool({ dataDir: first.dataDir })
    expect((await status(again.url)).body.db).toBe("ok")
  })

  test("an applied migration whose content changed refuses to boot, naming the file", async () => {
    const dataDir = tempDir()
    const db = await openDatabase({ dataDir })
    // Same state as an edited file: the recorded checksum no longer matches the shipped text.
    await db.sql`update schema_migrations set checksum = 'edited' where name = '0001_init.sql'`
    await db.close()
    const p = spawnProc([...celluleCmd(), "pool", "--port", "0", "--data-dir", dataDir])
    expect(await p.exited).not.toBe(0)
    expect(p.stderr()).toContain("migration 0001_init.sql was changed after it was applied")
  })

  test("DATABASE_URL on Debian PostgreSQL 15 without pgvector exits with the pgvector message", async () => {
    const pg = await startDebianPostgres()
    const p = spawnProc([...celluleCmd(), "pool", "--port", "0", "--data-dir", tempDir()], {
      env: { DATABASE_URL: pg.url },
    })
    expect(await p.exited).not.toBe(0)
    expect(p.stderr()).toContain("pgvector")
    expect(p.stderr()).toContain("pgvector/pgvector:pg16")
  })

  test("DATABASE_URL on a PGlite socket server works (external mode, same client code)", async () => {
    const { db, url, stop } = await startSocketDatabase(1)
    try {
      const pool = await startPool({ env: { DATABASE_URL: url, CELLULE_DATABASE_POOL_MAX: "1" } })
      const s = await status(pool.url)
      expect(s.body).toMatchObject({ db: "ok", db_mode: "external" })
      const rows = await db.query<{ name: string }>("select name from schema_migrations")
      expect(rows.rows.map((r) => r.name)).toContain("0001_init.sql")
      await pool.kill()
    } finally {
      await stop()
    }
  })

  test("an unreachable DATABASE_URL exits with db_unreachable, password redacted", async () => {
    const p = spawnProc([...celluleCmd(), "pool", "--port", "0", "--data-dir", tempDir()], {
      env: { DATABASE_URL: "postgres://u:secretpw@127.0.0.1:1/x" },
    })
    expect(await p.exited).not.toBe(0)
    expect(p.stderr()).toContain("cannot reach the database")
    expect(p.stderr()).not.toContain("secretpw")
  })

  test("a bad setting stops start-up with a one-line error naming the variable", async () => {
    const p = spawnProc([...celluleCmd(), "pool"], { env: { PORT: "eighty" } })
    expect(await p.exited).toBe(2)
    expect(p.stderr().trim().split("\n")[0]).toBe('error: PORT must be a whole number, got "eighty"')
  })
})

describe("compiled dist/cellule", () => {
  test("--version prints the version", () => {
    const r = Bun.spawnSync([DIST, "--version"], { cwd: "/" })
    expect(r.exitCode).toBe(0)
    expect(r.stdout.toString().trim()).toMatch(/^\d+\.\d+\.\d+/)
  })

  // Structured settings are parsed in loadConfig: the process stops before opening anything.
  test.each([
    [
      ["pool"],
      { CELLULE_TRUSTED_NETWORKS: "10.0.0.0/8,10.1.0.0/33" },
      'CELLULE_TRUSTED_NETWORKS: bad prefix in "10.1.0.0/33"',
    ],
    [["pool"], { CELLULE_TRUSTED_PROXIES: "proxy.lan" }, 'CELLULE_TRUSTED_PROXIES: "proxy.lan" is not an IP address'],
    [["pool"], { CELLULE_WORKER_WORKING_HOURS: "weekdays 9-5" }, "CELLULE_WORKER_WORKING_HOURS: working hours"],
    [["pool", "--trusted-networks", "10.0.0.0/8", "--trusted-networks", "x"], {}, '--trusted-networks: "x" is not'],
    [
      ["proxy", "--upstream", "http://127.0.0.1:1"],
      { CELLULE_TRUSTED_PROXIES: "::1/200" },
      "CELLULE_TRUSTED_PROXIES: bad prefix",
    ],
  ])("cellule %j with %j exits 2 naming the setting", async (args, env, message) => {
    const p = spawnProc([DIST, ...args, "--port", "0", "--data-dir", tempDir()], { env, cwd: tempDir() })
    expect(await p.exited).toBe(2)
    expect(p.stderr().trim().split("\n")[0]).toStartWith(`error: ${message}`)
  })

  test("runs pool on the embedded database from another working directory", async () => {
    const pool = await startPool({ compiled: true, cwd: tempDir() })
    expect((await status(pool.url)).body).toMatchObject({ status: "ok", db: "ok" })
    expect(await pool.kill("SIGTERM")).toBe(0)
  })
})
