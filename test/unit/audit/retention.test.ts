// Retention on the manual clock: rows older than the profile's months are purged through
// audit_purge(), a checkpoint row is written and the chain still verifies; usage rows follow the same
// retention; `unlimited` keeps everything; the daily job runs a pass at start and stops cleanly.
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { applyRetention, AuditLog, monthsBefore, RetentionJob, verifyAudit } from "../../../core/audit/index.ts"
import { ManualClock } from "../../../core/clock.ts"
import type { Database } from "../../../core/db/client.ts"
import { testDatabase } from "../../support/db.ts"
import { cleanupAll } from "../../support/proc.ts"
import { setProfile } from "./_support.ts"

let db: Database
const MONTH = 30 * 24 * 3600_000
const start = Date.UTC(2024, 0, 15)
const clock = new ManualClock(start)
afterAll(cleanupAll)
beforeAll(async () => {
  db = await testDatabase()
}, 120_000)

const admin = { kind: "admin", id: "ops@cabinet.example" } as const

/** One audit row and one usage row per month for `months` months, starting at the clock's time. */
async function monthlyRows(audit: AuditLog, months: number) {
  for (let m = 0; m < months; m++) {
    await audit.record({ actor: admin, action: "setting.change", details: { month: m } })
    await db.sql`insert into api_usage (model, prompt_tokens, completion_tokens, latency_ms, pool_name, created_at)
                 values ('tiny', 1, 1, 1, 'p', ${new Date(clock.now())})`
    clock.advance(MONTH)
  }
}

const count = async (table: "audit_log" | "api_usage") =>
  Number((await db.sql`select count(*) as n from ${db.sql(table)}`)[0].n)

describe("retention", () => {
  test("monthsBefore subtracts calendar months and clamps to the month's last day", () => {
    expect(monthsBefore(Date.UTC(2026, 2, 31, 12), 1).toISOString()).toBe("2026-02-28T12:00:00.000Z")
    expect(monthsBefore(Date.UTC(2026, 0, 15), 120).toISOString()).toBe("2016-01-15T00:00:00.000Z")
  })

  test("rows past the sector's months are purged, a checkpoint is written, the chain verifies", async () => {
    // DESIGN's default: 24 months.
    await setProfile(db.sql, "basic", 24, "DESIGN")
    const audit = new AuditLog(db.sql, clock)
    await monthlyRows(audit, 36)
    expect(await count("audit_log")).toBe(36)
    const report = await applyRetention(db.sql, clock)
    const cutoff = monthsBefore(clock.now(), 24)
    expect(report.cutoff).toEqual(cutoff)
    const old = Math.ceil((cutoff.getTime() - start) / MONTH) // rows at start + m·MONTH before the cutoff
    expect(report.auditPurged).toBe(old)
    expect(report.usagePurged).toBe(old)
    expect(await count("api_usage")).toBe(36 - old)
    const [{ oldest }] = await db.sql`select min(at) as oldest from audit_log where action <> 'audit.purge'`
    expect(oldest.getTime()).toBeGreaterThanOrEqual(cutoff.getTime())
    const [cp] = await db.sql`select * from audit_log where id = ${report.checkpointId}`
    expect(cp).toMatchObject({ actor_kind: "system", action: "audit.purge", outcome: "success" })
    expect(cp.details).toMatchObject({ purged_rows: old, through_id: old })
    expect(cp.details.through_hash).toMatch(/^[0-9a-f]{64}$/)
    expect(await verifyAudit(db.sql)).toEqual({ ok: true, rows: 36 - old + 1, first_broken: null })
  })

  test("a second purge later anchors on its own checkpoint; the chain still verifies", async () => {
    await monthlyRows(new AuditLog(db.sql, clock), 6)
    const report = await applyRetention(db.sql, clock)
    expect(report.auditPurged).toBeGreaterThan(0)
    expect(await verifyAudit(db.sql)).toMatchObject({ ok: true, first_broken: null })
    // Nothing new is old enough: no purge, no checkpoint.
    const again = await applyRetention(db.sql, clock)
    expect(again).toMatchObject({ auditPurged: 0, checkpointId: null })
  })

  test("a checkpoint rewritten by a superuser is caught: its own hash no longer matches", async () => {
    const [cp] =
      await db.sql`select id::int, details from audit_log where action = 'audit.purge' order by id desc limit 1`
    const conn = await db.sql.reserve()
    try {
      await conn`set session_replication_role = replica`
      await conn`update audit_log set details = jsonb_set(details, '{through_hash}', to_jsonb(repeat('ab', 32))) where id = ${cp.id}`
      expect(await verifyAudit(conn as never)).toMatchObject({
        ok: false,
        first_broken: { id: cp.id, reason: "row_hash_mismatch" },
      })
      await conn`update audit_log set details = ${conn.json(cp.details)} where id = ${cp.id}`
      expect((await verifyAudit(conn as never)).ok).toBeTrue()
    } finally {
      await conn`set session_replication_role = origin`
      conn.release()
    }
  })

  test("unlimited retention keeps every audit and usage row, however old", async () => {
    await setProfile(db.sql, "basic", null, "LAW")
    await monthlyRows(new AuditLog(db.sql, clock), 3)
    const before = { audit: await count("audit_log"), usage: await count("api_usage") }
    clock.advance(50 * 12 * MONTH)
    expect(await applyRetention(db.sql, clock)).toMatchObject({
      retention: "unlimited",
      auditPurged: 0,
      usagePurged: 0,
    })
    expect({ audit: await count("audit_log"), usage: await count("api_usage") }).toEqual(before)
  })

  test("the daily job runs a pass when started, then stops (idempotently) with the pass done", async () => {
    await setProfile(db.sql, "basic", 24, "DESIGN")
    await monthlyRows(new AuditLog(db.sql, clock), 1)
    clock.advance(30 * MONTH)
    const job = new RetentionJob(db.sql, clock)
    job.start()
    expect(job.state).toBe("running")
    for (let i = 0; i < 100 && !job.last; i++) await Bun.sleep(50)
    expect(job.last?.auditPurged).toBeGreaterThan(0)
    await job.stop()
    await job.stop()
    expect(job.state).toBe("stopped")
    expect((await verifyAudit(db.sql)).ok).toBeTrue()
  })
})
