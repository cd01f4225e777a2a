// Several clients on the embedded database's socket at once (the pool, an admin tool, a test): each
// client's extended-protocol exchange reaches the one PGlite backend whole, so parameterised queries
// and transactions of one client never meet another's unnamed statement or portal.
import { afterAll, beforeAll, expect, test } from "bun:test"
import { PGlite } from "@electric-sql/pglite"
import { PGLiteSocketServer } from "@electric-sql/pglite-socket"
import { join } from "node:path"
// The driver the pool runs with (vendored, patched): the npm one can throw out of a connection ended mid-query.
import postgres from "../../../vendor/postgres/src/index.js"
import { ExchangeQueue } from "../../../core/db/socket-queue.ts"
import { cleanupAll, tempDir } from "../../support/proc.ts"

let db: PGlite
let server: PGLiteSocketServer
let socketDir: string

beforeAll(async () => {
  db = await PGlite.create()
  socketDir = tempDir("cellule-sockq-")
  server = new PGLiteSocketServer({ db, path: join(socketDir, ".s.PGSQL.5432"), maxConnections: 8 })
  Object.assign(server, { queryQueue: new ExchangeQueue(db) })
  await server.start()
  await db.exec("create table t (client int, n int)")
})
afterAll(async () => {
  await server.stop()
  await db.close()
  await cleanupAll()
})

const client = () =>
  postgres({ host: socketDir, port: 5432, user: "postgres", database: "postgres", max: 1, onnotice: () => {} })

test("four clients, 200 parameterised queries each, interleaved: every answer is the client's own", async () => {
  const clients = [0, 1, 2, 3].map(client)
  try {
    const answers = await Promise.all(
      clients.map((sql, c) =>
        Promise.all(
          Array.from({ length: 200 }, (_, i) =>
            sql<{ c: number; n: number }[]>`select ${c}::int as c, ${i}::int as n`.then(([r]) => [r.c, r.n]),
          ),
        ),
      ),
    )
    for (const [c, rows] of answers.entries()) expect(rows).toEqual(Array.from({ length: 200 }, (_, i) => [c, i]))
  } finally {
    await Promise.all(clients.map((sql) => sql.end()))
  }
})

test("a transaction keeps the backend: another client's writes wait, and a rollback leaves nothing", async () => {
  const [a, b] = [client(), client()]
  try {
    const inTx = a.begin(async (tx) => {
      await tx`insert into t values (1, 1)`
      await Bun.sleep(50)
      await tx`insert into t values (1, 2)`
      throw new Error("roll back")
    })
    const other = Promise.all(Array.from({ length: 20 }, (_, i) => b`insert into t values (2, ${i})`))
    await expect(inTx).rejects.toThrow("roll back")
    await other
    const rows = await b<{ client: number; count: number }[]>`select client, count(*)::int from t group by client`
    expect([...rows]).toEqual([{ client: 2, count: 20 }])
  } finally {
    await Promise.all([a.end(), b.end()])
  }
})

test("a client that disconnects mid-transaction frees the backend for the others", async () => {
  const a = client()
  const b = client()
  try {
    const held = a.begin(async (tx) => {
      await tx`insert into t values (3, 1)`
      await new Promise(() => {}) // never commits
    })
    held.catch(() => {})
    await Bun.sleep(50)
    const waiting = b`select count(*)::int as n from t where client = 3`
    await a.end({ timeout: 0 })
    const [r] = await waiting
    expect(r.n).toBe(0)
  } finally {
    await b.end()
  }
})

test("a client that goes away while its BEGIN runs: the transaction it opened is rolled back, the others are served", async () => {
  // A stand-in backend, so the client can leave at that exact moment: its BEGIN ends only when told.
  let inTx = false
  let endBegin!: () => void
  const execs: string[] = []
  const backend = {
    isInTransaction: () => inTx,
    runExclusive: (fn: () => Promise<unknown>) => fn(),
    exec: async (q: string) => {
      execs.push(q)
      if (q === "ROLLBACK") inTx = false
    },
    execProtocolRawStream: (msg: Uint8Array) =>
      msg[1] === 1
        ? new Promise<void>((r) => {
            endBegin = () => {
              inTx = true
              r()
            }
          })
        : Promise.resolve(),
  }
  const q = new ExchangeQueue(backend as unknown as PGlite)
  const Q = "Q".charCodeAt(0)
  const begin = q.enqueue(1, new Uint8Array([Q, 1]), () => {})
  await Bun.sleep(1)
  // What pglite-socket's detach does when client 1's socket closes.
  q.clearQueueForHandler(1)
  await q.clearTransactionIfNeeded(1)
  endBegin()
  await begin
  const other = q.enqueue(2, new Uint8Array([Q, 2]), () => {})
  expect(await Promise.race([other.then(() => "served"), Bun.sleep(500).then(() => "stuck")])).toBe("served")
  expect(execs).toEqual(["ROLLBACK"])
  expect(inTx).toBe(false)
})

test("a client that goes away while the database closes: no rejection escapes (pglite-socket does not await it)", async () => {
  const backend = {
    isInTransaction: () => true,
    runExclusive: (fn: () => Promise<unknown>) => fn(),
    exec: () => Promise.reject(new Error("PGlite is closing")),
    execProtocolRawStream: () => Promise.resolve(),
  }
  const q = new ExchangeQueue(backend as unknown as PGlite)
  await q.enqueue(1, new Uint8Array(["B".charCodeAt(0)]), () => {})
  await q.clearTransactionIfNeeded(1)
  const served = await q.enqueue(2, new Uint8Array(["Q".charCodeAt(0)]), () => {})
  expect(served).toBe(0)
})
