// The pool's database connection closing under it (the embedded database's socket dropped during a
// 5 000-worker join storm; an external PostgreSQL restarting): the queries it carried fail, the process
// lives, and the next query reconnects. With the unpatched driver (postgres 3.4.9) a transaction whose
// connection closed ended the process (its commit was written on the closed socket from an immediate),
// and a close with a write pending lost the database for good (every reconnection: CONNECT_TIMEOUT).
// vendor/postgres/README.md.
import { afterAll, beforeAll, expect, test } from "bun:test"
import { PGlite } from "@electric-sql/pglite"
import { PGLiteSocketServer } from "@electric-sql/pglite-socket"
import { connect, type Socket } from "node:net"
import { join } from "node:path"
import postgres from "../../../vendor/postgres/src/index.js"
import { ExchangeQueue } from "../../../core/db/socket-queue.ts"
import { claimWorkerId } from "../../../core/workers/ownership.ts"
import { watchEscapes } from "../../support/escapes.ts"
import { cleanupAll, tempDir } from "../../support/proc.ts"

let db: PGlite
let server: PGLiteSocketServer
let socketPath: string

// Whatever escapes as an uncaught exception or unhandled rejection during a test fails it by name (Bun
// would end the pool's process on either).
let escapes: ReturnType<typeof watchEscapes>

beforeAll(async () => {
  db = await PGlite.create()
  socketPath = join(tempDir("cellule-conndrop-"), ".s.PGSQL.5432")
  server = new PGLiteSocketServer({ db, path: socketPath, maxConnections: 8 })
  Object.assign(server, { queryQueue: new ExchangeQueue(db) })
  await server.start()
  await db.exec(
    "create table t (n int); create table worker_ids (worker_id text primary key, token_id bigint, bound_at timestamptz)",
  )
  escapes = watchEscapes()
})
afterAll(async () => {
  escapes.stop()
  await server.stop()
  await db.close()
  await cleanupAll()
})

/** The pool's client (max 1, as core/db/client.ts opens the embedded database) on a socket the test can cut. */
function client() {
  const sockets: Socket[] = []
  let closes = 0
  // `socket` (a connected socket per connection) is the driver's, missing from its types.
  const options = {
    host: "localhost",
    user: "postgres",
    database: "postgres",
    max: 1,
    idle_timeout: 0,
    // Short, so a lost database shows as CONNECT_TIMEOUT within the test's time.
    connect_timeout: 2,
    onnotice: () => {},
    onclose: () => void closes++,
    socket: () =>
      new Promise<Socket>((resolve, reject) => {
        const s = connect(socketPath)
        s.once("connect", () => resolve(s)).once("error", reject)
        sockets.push(s)
      }),
  }
  const sql = postgres(options as postgres.Options<{}>)
  return { sql, cut: () => sockets.at(-1)!.destroy(), closes: () => closes }
}

async function until(cond: () => boolean, ms = 5000) {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error("timed out")
    await Bun.sleep(5)
  }
}

test("a transaction whose connection closes fails, the process lives, and the next query reconnects", async () => {
  escapes.escaped.length = 0
  const { sql, cut, closes } = client()
  try {
    const tx = sql.begin(async (t) => {
      await t`insert into t values (1)`
      cut()
      await until(() => closes() > 0)
      // The callback runs on after its connection closed: this query and the commit must fail, not
      // be written on the closed socket (unpatched: a TypeError thrown from an immediate).
      await t`insert into t values (2)`
    })
    await expect(tx).rejects.toThrow(/CONNECTION_CLOSED/)
    await Bun.sleep(50)
    const [r] = await sql<{ n: number }[]>`select count(*)::int as n from t`
    expect(r.n).toBe(0)
    expect(escapes.escaped).toEqual([])
  } finally {
    await sql.end({ timeout: 1 })
  }
})

test("a connection that closes with a write pending comes back (unpatched: CONNECT_TIMEOUT for good)", async () => {
  escapes.escaped.length = 0
  const { sql, cut } = client()
  try {
    await sql`select 1`
    // The query's bytes wait for an immediate; the close lands first.
    const q = sql`select 2`
    cut()
    await expect(q).rejects.toThrow(/CONNECTION_CLOSED/)
    const [r] = await sql<{ n: number }[]>`select 3::int as n`
    expect(r.n).toBe(3)
    expect(escapes.escaped).toEqual([])
  } finally {
    await sql.end({ timeout: 1 })
  }
})

test("a join storm's claims with the connection cut in the middle: the claims in flight fail, the rest land", async () => {
  escapes.escaped.length = 0
  const { sql, cut } = client()
  const clock = { now: () => Date.now() }
  try {
    let done = 0
    const claims = Array.from({ length: 400 }, (_, i) =>
      claimWorkerId(sql, clock, `storm-${String(i).padStart(4, "0")}`, null).then(
        () => void done++,
        (e: Error) => e.message,
      ),
    )
    await until(() => done >= 100)
    cut()
    const failed = (await Promise.all(claims)).filter((x) => typeof x === "string")
    expect(failed.length).toBeGreaterThan(0)
    expect(failed.length).toBeLessThan(10)
    for (const m of failed) expect(m).toMatch(/CONNECTION_CLOSED/)
    const [r] = await sql<{ n: number }[]>`select count(*)::int as n from worker_ids where worker_id like 'storm-%'`
    expect(r.n).toBe(400 - failed.length)
    expect(escapes.escaped).toEqual([])
  } finally {
    await sql.end({ timeout: 1 })
  }
})
