// Provisioning codes: single use under concurrency (real PostgreSQL, 20 connections), expiry on an
// injected clock, hashed storage, revocation.
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import postgres from "postgres"
import { testDatabase } from "../../support/db.ts"
import { startDebianPostgres } from "../../support/postgres.ts"
import { cleanupAll, onCleanup } from "../../support/proc.ts"
import { ManualClock } from "../../../core/clock.ts"
import type { Database, Sql } from "../../../core/db/client.ts"
import {
  createProvisionCode,
  redeemProvisionCode,
  revokeWorkerToken,
  workerTokenId,
  listWorkerTokens,
} from "../../../core/workers/provisioning.ts"
import migration from "../../../sql/0007_workers.sql" with { type: "text" }

let db: Database
const clock = new ManualClock()
afterAll(cleanupAll)
beforeAll(async () => {
  db = await testDatabase()
}, 60_000)

async function race(sql: Sql, code: string, n = 20) {
  const results = await Promise.allSettled(
    Array.from({ length: n }, (_, i) => redeemProvisionCode(sql, clock, code, `host-${i}`)),
  )
  return {
    won: results.filter((r) => r.status === "fulfilled"),
    lost: results.filter((r) => r.status === "rejected").map((r) => (r as PromiseRejectedResult).reason.code),
  }
}

describe("provisioning codes", () => {
  test("20 concurrent redemptions of one code on a real PostgreSQL: exactly one wins", async () => {
    const pg = await startDebianPostgres()
    const sql = postgres(pg.url, { max: 20, onnotice: () => {} }) as unknown as Sql
    onCleanup(() => sql.end({ timeout: 1 }))
    await sql.unsafe(migration)
    for (let round = 0; round < 3; round++) {
      const { code } = await createProvisionCode(sql, clock, { os: "linux", hardware: "cpu", ttlMs: 3600_000 })
      const { won, lost } = await race(sql, code)
      expect(won.length).toBe(1)
      expect(lost).toEqual(Array(19).fill("provision_code_invalid"))
    }
    const [{ n }] = await sql`select count(*)::int as n from worker_tokens`
    expect(n).toBe(3)
  }, 60_000)

  test("the same race on the embedded database: exactly one wins", async () => {
    const { code } = await createProvisionCode(db.sql, clock, { os: "windows", hardware: "gpu", ttlMs: 3600_000 })
    const { won, lost } = await race(db.sql, code)
    expect(won.length).toBe(1)
    expect(lost.length).toBe(19)
  })

  test("a code expires after its TTL (24 h by default) on the injected clock", async () => {
    const ttl = 24 * 3600_000
    const a = await createProvisionCode(db.sql, clock, { os: "linux", hardware: "cpu", ttlMs: ttl })
    const b = await createProvisionCode(db.sql, clock, { os: "linux", hardware: "cpu", ttlMs: ttl })
    clock.advance(ttl - 1000)
    expect((await redeemProvisionCode(db.sql, clock, a.code, "early")).token).toStartWith("cwt_")
    clock.advance(1000)
    await expect(redeemProvisionCode(db.sql, clock, b.code, "late")).rejects.toMatchObject({
      code: "provision_code_invalid",
      status: 401,
    })
  })

  test.each([["garbage"], ["cwp_unknown"], [""]])("an unknown code %p is refused", async (code) => {
    await expect(redeemProvisionCode(db.sql, clock, code, "x")).rejects.toMatchObject({
      code: "provision_code_invalid",
    })
  })

  test("codes and tokens are stored hashed; a revoked token no longer resolves", async () => {
    const { code } = await createProvisionCode(db.sql, clock, { os: "macos", hardware: "gpu", ttlMs: 60_000 })
    const r = await redeemProvisionCode(db.sql, clock, code, "mac mini")
    const dump =
      JSON.stringify(await db.sql`select * from worker_provision_codes`) +
      JSON.stringify(await db.sql`select * from worker_tokens`)
    expect(dump).not.toContain(code)
    expect(dump).not.toContain(r.token)
    expect(r.name).toBe("mac-mini")
    expect(await workerTokenId(db.sql, r.token)).toBe(r.tokenId)
    await revokeWorkerToken(db.sql, clock, r.tokenId)
    expect(await workerTokenId(db.sql, r.token)).toBeNull()
    expect((await listWorkerTokens(db.sql)).find((t) => t.id === r.tokenId)?.revoked_at).not.toBeNull()
    const events = await db.sql`select event from worker_audit_log where worker = 'mac-mini' order by id`
    expect(events.map((e) => e.event)).toEqual(["enrolled", "revoked"])
  })
})
