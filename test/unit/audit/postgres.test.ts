// The audit log on Debian PostgreSQL 15 with real roles: appends from 20 connections at once form one
// linear chain; an application role granted every table privilege still cannot UPDATE, DELETE or
// TRUNCATE, nor switch triggers off; a superuser's edit is named by verify.
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import postgres from "postgres"
import { AuditLog, verifyAudit } from "../../../core/audit/index.ts"
import { ManualClock } from "../../../core/clock.ts"
import type { Sql } from "../../../core/db/client.ts"
import { migrate } from "../../../core/db/migrate.ts"
import { MIGRATIONS } from "../../../sql/index.ts"
import { startDebianPostgres } from "../../support/postgres.ts"
import { cleanupAll, onCleanup } from "../../support/proc.ts"
import { asSuperuserBypassingTriggers, setProfile } from "./_support.ts"

let su: Sql
let app: Sql
const clock = new ManualClock(Date.UTC(2026, 5, 1))
afterAll(cleanupAll)
beforeAll(async () => {
  const pg = await startDebianPostgres()
  su = postgres(pg.url, { max: 4, onnotice: () => {} }) as unknown as Sql
  onCleanup(() => su.end({ timeout: 1 }))
  // Debian's PostgreSQL here has no pgvector package: every migration but the vector-typed RAG tables
  // and the ones that alter them or put triggers on them.
  await migrate(
    su,
    MIGRATIONS.filter((m) => !/\bvector\(/.test(m.sql) && !/\b(alter table|on) (documents|chunks)\b/.test(m.sql)),
  )
  await setProfile(su, "basic", 120)
  // The application's role as an operator might grant it: every privilege on every table.
  await su.unsafe(`create role cellule_app login;
                   grant all privileges on all tables in schema public to cellule_app;`)
  app = postgres(pg.url.replace("postgres@", "cellule_app@"), { max: 20, onnotice: () => {} }) as unknown as Sql
  onCleanup(() => app.end({ timeout: 1 }))
}, 60_000)

describe("audit log on PostgreSQL 15", () => {
  test("500 appends from 20 connections at once form one linear chain that verifies", async () => {
    const audit = new AuditLog(app, clock)
    await Promise.all(
      Array.from({ length: 20 }, async (_, c) => {
        for (let i = 0; i < 25; i++)
          await audit.record({ actor: { kind: "api_key", id: `key-${c}` }, action: "key.update", details: { i } })
      }),
    )
    const [{ n, max }] = await su`select count(*)::int as n, max(id)::int as max from audit_log`
    expect({ n, max }).toEqual({ n: 500, max: 500 })
    expect(await verifyAudit(app)).toEqual({ ok: true, rows: 500, first_broken: null })
  }, 60_000)

  test.each([
    ["UPDATE", "update audit_log set outcome = 'failure' where id = 3", "42501"],
    ["DELETE", "delete from audit_log where id = 3", "42501"],
    ["TRUNCATE", "truncate audit_log", "42501"],
    ["disabling the triggers", "alter table audit_log disable trigger user", "42501"],
    ["switching triggers off for the session", "set session_replication_role = replica", "42501"],
    [
      "replacing the purge function",
      "create or replace function audit_purge(p_cutoff timestamptz, p_now timestamptz) returns table (purged bigint, checkpoint_id bigint) language sql as 'select 0::bigint, null::bigint'",
      "42501",
    ],
  ])("the application role's %s is refused", async (_name, q, code) => {
    await expect(app.unsafe(q)).rejects.toMatchObject({ code })
    expect((await verifyAudit(su)).ok).toBeTrue()
  })

  test("the application role purges only through audit_purge, which writes the checkpoint", async () => {
    clock.advance(24 * 3600_000)
    const [r] = await app.begin(
      (tx) => tx`select * from audit_purge(${new Date(clock.now())}, ${new Date(clock.now())})`,
    )
    expect(Number(r.purged)).toBe(500)
    expect(await verifyAudit(app)).toEqual({ ok: true, rows: 1, first_broken: null })
    await new AuditLog(app, clock).record({ actor: { kind: "system", id: "system" }, action: "worker.enrol" })
    expect(await verifyAudit(app)).toEqual({ ok: true, rows: 2, first_broken: null })
  })

  test("a row edited as the database superuser is named by verify", async () => {
    const [{ id }] = await su`select max(id)::int as id from audit_log`
    await asSuperuserBypassingTriggers(su, (q) => q`update audit_log set actor_id = 'someone-else' where id = ${id}`)
    expect(await verifyAudit(app)).toEqual({ ok: false, rows: 1, first_broken: { id, reason: "row_hash_mismatch" } })
  })
})
