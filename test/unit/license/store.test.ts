// The cluster_license row and LicenseStore against a real (embedded) Postgres: constraints, other
// processes sharing the database, the cost of a per-request state, and a database that goes away.
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { ManualClock } from "../../../core/clock.ts"
import type { Database } from "../../../core/db/client.ts"
import { generateKeyPair, issueLicense, LicenseStore, toHex } from "../../../core/license/index.ts"
import { testDatabase } from "../../support/db.ts"
import { cleanupAll } from "../../support/proc.ts"

const clock = new ManualClock(Date.UTC(2026, 0, 1))
let db: Database
let pubkeyHex: string
let token: string

beforeAll(async () => {
  db = await testDatabase()
  const kp = await generateKeyPair()
  pubkeyHex = toHex(kp.publicKey)
  token = (await issueLicense({ clientId: "cluster-example-001", tier: "cabinet" }, kp.privateKey, { clock })).token
})
afterAll(cleanupAll)

describe("cluster_license", () => {
  test("one row exists from the start, enforce defaults to true, no licence", async () => {
    expect([...(await db.sql`select id, token, enforce, revoked from cluster_license`)]).toEqual([
      { id: 1, token: null, enforce: true, revoked: false },
    ])
  })

  test.each([
    ["a second row", "23514", () => db.sql`insert into cluster_license (id) values (2)`],
    ["a duplicate of row 1", "23505", () => db.sql`insert into cluster_license (id) values (1)`],
    [
      "a token without its client_id copy",
      "23514",
      () => db.sql`update cluster_license set token = 'x', installed_at = now() where id = 1`,
    ],
    [
      "a token over 8192 characters",
      "23514",
      () =>
        db.sql`update cluster_license set token = ${"x".repeat(8193)}, client_id = 'c', installed_at = now() where id = 1`,
    ],
  ])("refuses %s (SQLSTATE %s)", async (_name, code, run) => {
    await expect(run()).rejects.toMatchObject({ code })
  })
})

describe("LicenseStore", () => {
  test("another process's install, enforce change and removal are seen once the re-read interval has passed", async () => {
    const here = new LicenseStore(db.sql, { clock, pubkeyHex, refreshMs: 5_000 })
    const there = new LicenseStore(db.sql, { clock, pubkeyHex, refreshMs: 5_000 })
    expect((await here.state()).status).toBe("none")
    await there.install(token, "other@corp.local")
    expect((await here.state()).status).toBe("none") // still within the interval: the cached row
    clock.advance(5_000)
    expect(await here.state()).toMatchObject({
      status: "active",
      enforce: true,
      license: { client_id: "cluster-example-001" },
    })
    await there.setEnforce(false)
    clock.advance(5_000)
    expect((await here.state()).enforce).toBe(false)
    await there.remove()
    clock.advance(5_000)
    expect((await here.state()).status).toBe("none")
    expect((await here.view()).enforce).toBe(false)
    await there.setEnforce(true)
  })

  test("a per-request state costs no query within the interval (measured)", async () => {
    const store = new LicenseStore(db.sql, { clock, pubkeyHex, refreshMs: 5_000 })
    await store.install(token)
    const n = 20_000
    const t0 = performance.now()
    for (let i = 0; i < n; i++) await store.state()
    const perCallUs = ((performance.now() - t0) * 1000) / n
    console.log(`LicenseStore.state(): ${perCallUs.toFixed(2)} µs per call over ${n} calls`)
    // One embedded-Postgres round trip is ~1 ms; anything near that would mean a query per request.
    expect(perCallUs).toBeLessThan(100)
  })

  test("the stored token is re-verified only when it changes", async () => {
    const store = new LicenseStore(db.sql, { clock, pubkeyHex, refreshMs: 0 })
    await store.install(token)
    const a = await store.state()
    const b = await store.state()
    expect(b.license).toBe(a.license) // same verified object: no second verification
  })

  test("when the database stops answering, requests keep the last known state without waiting on it", async () => {
    const own = await testDatabase()
    const store = new LicenseStore(own.sql, { clock, pubkeyHex, refreshMs: 1_000 })
    await store.install(token)
    await own.close()
    clock.advance(10_000)
    const t0 = performance.now()
    expect((await store.state()).status).toBe("active")
    expect((await store.state()).status).toBe("active")
    expect(performance.now() - t0).toBeLessThan(1_000)
  })
})
