// The audit log on the embedded database: each family's row shape, the audit grade deciding what is
// recorded, details never carrying secrets, the chain, append-only refusals and tamper detection.
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import {
  type AuditAction,
  type AuditEntry,
  AuditLog,
  cleanDetails,
  listAudit,
  verifyAudit,
} from "../../../core/audit/index.ts"
import { ManualClock } from "../../../core/clock.ts"
import type { Database } from "../../../core/db/client.ts"
import { testDatabase } from "../../support/db.ts"
import { cleanupAll } from "../../support/proc.ts"
import { asSuperuserBypassingTriggers, setProfile } from "./_support.ts"

let db: Database
let audit: AuditLog
const clock = new ManualClock(Date.UTC(2026, 3, 1))
afterAll(cleanupAll)
beforeAll(async () => {
  db = await testDatabase()
  audit = new AuditLog(db.sql, clock, { gradeTtlMs: 0 })
}, 120_000)

const admin = { kind: "admin", id: "ops@cabinet.example" } as const
const key = { kind: "api_key", id: "0b1e3c6e-8f5a-4a52-9d2e-3f1c2b7a9e10" } as const
const peer = { kind: "peer", id: "pool-lyon" } as const

// One representative entry per family the issue lists.
const FAMILIES: [string, AuditEntry][] = [
  ["admin sign-in", { actor: admin, action: "admin.sign_in", clientIp: "10.0.0.7" }],
  ["admin sign-in failure", { actor: admin, action: "admin.sign_in", outcome: "failure", clientIp: "10.0.0.8" }],
  ["admin sign-out", { actor: admin, action: "admin.sign_out" }],
  ["admin change", { actor: admin, action: "admin.create", target: "admin:second@cabinet.example" }],
  ["key", { actor: admin, action: "key.revoke", target: `key:${key.id}`, project: "matter-12" }],
  ["licence", { actor: admin, action: "license.install", details: { licensee: "Cabinet", jti: "lic-1" } }],
  ["setting", { actor: admin, action: "setting.change", target: "setting:anonymous_access", details: { to: false } }],
  ["bond", { actor: peer, action: "bond.accept", target: "peer:pool-lyon" }],
  ["trust", { actor: admin, action: "trust.revoke", target: "peer:pool-lyon", outcome: "success" }],
  ["worker enrolment", { actor: { kind: "system", id: "system" }, action: "worker.enrol", target: "worker:17" }],
  ["worker revocation", { actor: admin, action: "worker.revoke", target: "worker:17" }],
  ["project", { actor: admin, action: "project.create", project: "matter-12", target: "project:matter-12" }],
  ["document upload", { actor: key, action: "document.upload", project: "matter-12", target: "document:5" }],
  ["document read", { actor: key, action: "document.read", project: "matter-12", target: "document:5" }],
  ["document search", { actor: key, action: "document.search", project: "matter-12", details: { k: 5 } }],
  ["document deletion", { actor: admin, action: "document.delete", project: "matter-12", target: "document:5" }],
  ["migration order", { actor: admin, action: "migration.order", target: "pool:pool-lyon" }],
  ["API request", { actor: key, action: "api.request", details: { method: "POST", path: "/v1/chat/completions" } }],
]

describe("recording", () => {
  test.each(FAMILIES)("%s writes its row with actor, outcome, target and project", async (_name, entry) => {
    await setProfile(db.sql, "iso27001", null)
    const id = await audit.record(entry)
    expect(id).toBeNumber()
    const [row] = await listAudit(db.sql, { before: id! + 1, limit: 1 })
    expect(row.id).toBe(id!)
    expect(row.actor).toEqual(entry.actor)
    expect(row.action).toBe(entry.action)
    expect(row.outcome).toBe(entry.outcome ?? "success")
    expect(row.target).toBe(entry.target ?? null)
    expect(row.project).toBe(entry.project ?? null)
    expect(row.client_ip).toBe(entry.clientIp ?? null)
    expect(row.details).toEqual(entry.details ?? {})
    expect(row.at).toBe(new Date(clock.now()).toISOString())
    expect(row.row_hash).toMatch(/^[0-9a-f]{64}$/)
  })

  const only = (a: AuditAction): AuditEntry => ({ actor: key, action: a })
  test.each([
    ["basic", ["key.create", "document.upload"], ["document.read", "document.search", "api.request"]],
    ["strict", ["key.create", "document.read", "document.search"], ["api.request"]],
    ["iso27001", ["key.create", "document.read", "api.request"], []],
  ] as const)("grade %s records %p and skips %p", async (grade, kept, skipped) => {
    await setProfile(db.sql, grade, null)
    for (const a of kept) expect(await audit.record(only(a))).toBeNumber()
    for (const a of skipped) expect(await audit.record(only(a))).toBeNull()
  })

  test("before the wizard completes, the grade is basic", async () => {
    await db.sql`delete from cluster_profile`
    expect(await audit.currentGrade()).toBe("basic")
    expect(await audit.record(only("document.read"))).toBeNull()
  })

  test("details never carry secrets or content, at any depth, and are capped", () => {
    expect(
      cleanDetails({ password: "hunter2", nested: { token: "cwt_x", Content: "privileged memo", n: 1 }, ok: "yes" }),
    ).toEqual({ password: "[redacted]", nested: { token: "[redacted]", Content: "[redacted]", n: 1 }, ok: "yes" })
    expect(cleanDetails({ many: Array.from({ length: 100 }, () => "x".repeat(100)) })).toMatchObject({
      truncated: true,
    })
  })

  test("a row recorded in a transaction that rolls back leaves no row and no hole in the chain", async () => {
    await setProfile(db.sql, "basic", null)
    const [{ before }] = await db.sql`select last_id::int as before from audit_head`
    await db.sql
      .begin(async (tx) => {
        await audit.record({ actor: admin, action: "key.create" }, tx)
        throw new Error("the action failed")
      })
      .catch(() => {})
    const [{ after }] = await db.sql`select last_id::int as after from audit_head`
    expect(after).toBe(before)
    expect((await verifyAudit(db.sql)).ok).toBeTrue()
  })
})

describe("append-only and tamper evidence", () => {
  test.each([
    ["UPDATE", "update audit_log set outcome = 'failure' where id = 1"],
    ["DELETE", "delete from audit_log where id = 1"],
    ["TRUNCATE", "truncate audit_log"],
    ["TRUNCATE of the chain head", "truncate audit_head"],
    [
      "a DO block whose SQL text imitates the purge's call stack",
      "do $$ begin delete from audit_log /*\nPL/pgSQL function audit_purge(x) */; end $$",
    ],
  ])("the application's %s is refused (42501)", async (_name, q) => {
    await expect(db.sql.unsafe(q)).rejects.toMatchObject({ code: "42501" })
    const [{ n }] = await db.sql`select count(*)::int as n from audit_log where id = 1`
    expect(n).toBe(1)
  })

  test("the chain verifies: every row points at the previous one", async () => {
    const r = await verifyAudit(db.sql)
    const [{ n }] = await db.sql`select count(*)::int as n from audit_log`
    expect(r).toEqual({ ok: true, rows: n, first_broken: null })
  })

  test("a row edited as the database superuser is named by verify; restoring it heals the chain", async () => {
    const [victim] = await db.sql`select id::int, outcome from audit_log where action = 'key.revoke' limit 1`
    await asSuperuserBypassingTriggers(
      db.sql,
      (q) => q`update audit_log set outcome = 'denied' where id = ${victim.id}`,
    )
    expect(await verifyAudit(db.sql)).toMatchObject({
      ok: false,
      first_broken: { id: victim.id, reason: "row_hash_mismatch" },
    })
    // A forger who also recomputes the row's hash breaks the next row's link instead.
    await asSuperuserBypassingTriggers(
      db.sql,
      (q) => q`update audit_log a set row_hash = audit_row_hash(a) where id = ${victim.id}`,
    )
    expect(await verifyAudit(db.sql)).toMatchObject({
      ok: false,
      first_broken: { id: victim.id + 1, reason: "prev_hash_mismatch" },
    })
    await asSuperuserBypassingTriggers(db.sql, async (q) => {
      await q`update audit_log set outcome = ${victim.outcome} where id = ${victim.id}`
      await q`update audit_log a set row_hash = audit_row_hash(a) where id = ${victim.id}`
    })
    expect((await verifyAudit(db.sql)).ok).toBeTrue()
  })

  test("a row deleted as the superuser is named (gap), and so is the last row removed (head)", async () => {
    await setProfile(db.sql, "basic", null)
    const a = (await audit.record({ actor: admin, action: "setting.change" }))!
    const b = (await audit.record({ actor: admin, action: "setting.change" }))!
    const c = (await audit.record({ actor: admin, action: "setting.change" }))!
    const saved = await db.sql`select * from audit_log where id in (${b}, ${c}) order by id`
    await asSuperuserBypassingTriggers(db.sql, (q) => q`delete from audit_log where id = ${b}`)
    expect(await verifyAudit(db.sql)).toMatchObject({ ok: false, first_broken: { id: c, reason: "gap" } })
    await asSuperuserBypassingTriggers(db.sql, (q) => q`delete from audit_log where id = ${c}`)
    expect(await verifyAudit(db.sql)).toMatchObject({ ok: false, first_broken: { id: a, reason: "head_mismatch" } })
    await asSuperuserBypassingTriggers(db.sql, (q) => q`insert into audit_log ${q(saved as never)}`)
    expect((await verifyAudit(db.sql)).ok).toBeTrue()
  })
})
