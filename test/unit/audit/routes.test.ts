// The audit log through the real routes, in-process: each administration family writes its row with
// the right actor and outcome (sign-in, failed sign-in, sign-out, keys, licence, settings, worker
// enrolment and revocation), and the audit API lists with filters, pages a project, streams the
// export and reports the chain. Administrators only.
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import type { AuditRow } from "../../../core/audit/index.ts"
import { AnonymousAccess } from "../../../core/auth/anonymous-access.ts"
import { ApiKeys } from "../../../core/auth/api-keys.ts"
import { createAdmin, createSession } from "../../../core/auth/admins.ts"
import { ManualClock } from "../../../core/clock.ts"
import { loadConfig } from "../../../core/config/index.ts"
import type { Database } from "../../../core/db/client.ts"
import { buildApp, handle } from "../../../core/http/app.ts"
import { CSRF_HEADER, SESSION_COOKIE } from "../../../core/http/guards.ts"
import { poolServices } from "../../../core/pool/services.ts"
import { testDatabase } from "../../support/db.ts"
import { cleanupAll } from "../../support/proc.ts"
import { parseCsv, setProfile } from "./_support.ts"

const EMAIL = "dpo@cabinet.example"
const PASSWORD = "a long enough password"
const clock = new ManualClock(Date.UTC(2026, 6, 1))
let db: Database
let app: ReturnType<typeof buildApp>
let cookie: string
let csrf: string

afterAll(cleanupAll)
beforeAll(async () => {
  db = await testDatabase()
  await setProfile(db.sql, "strict", 120)
  const s = poolServices({
    config: loadConfig("pool", {}, {}),
    db,
    clock,
    apiKeys: new ApiKeys(db.sql, clock),
    anonymous: new AnonymousAccess(db.sql, clock, undefined, async () => {}),
  })
  app = buildApp(s)
  const a = await createAdmin(db.sql, EMAIL, PASSWORD)
  const session = await createSession(db.sql, a.id, clock)
  cookie = `${SESSION_COOKIE}=${session.token}`
  csrf = session.csrf
}, 120_000)

const api = (method: string, path: string, body?: unknown, auth = true) =>
  handle(
    app,
    new Request(`http://localhost${path}`, {
      method,
      headers: {
        ...(auth ? { cookie, [CSRF_HEADER]: csrf } : {}),
        ...(body ? { "content-type": "application/json" } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
    }),
  )
const login = (email: string, password: string) =>
  handle(
    app,
    new Request("http://localhost/login", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ email, password }).toString(),
    }),
  )
async function last(action: string): Promise<AuditRow> {
  const r = await api("GET", `/v1/admin/audit?action=${action}&limit=1`)
  expect(r.status).toBe(200)
  const { data } = (await r.json()) as { data: AuditRow[] }
  expect(data.length).toBe(1)
  return data[0]
}

describe("each family writes its row through the routes", () => {
  test("sign-in: success and failure, with the e-mail tried", async () => {
    expect((await login(EMAIL, PASSWORD)).status).toBe(303)
    expect(await last("admin.sign_in")).toMatchObject({ actor: { kind: "admin", id: EMAIL }, outcome: "success" })
    expect((await login(EMAIL, "wrong password!!")).status).toBe(401)
    const failed = await last("admin.sign_in")
    expect(failed).toMatchObject({ actor: { kind: "admin", id: EMAIL }, outcome: "failure" })
    expect(JSON.stringify(failed.details)).not.toContain("wrong password")
  })

  test("sign-out", async () => {
    const [admin] = await db.sql`select id::int from admin_users where email = ${EMAIL}`
    const other = await createSession(db.sql, admin.id, clock)
    const out = await handle(
      app,
      new Request("http://localhost/logout", {
        method: "POST",
        headers: { cookie: `${SESSION_COOKIE}=${other.token}`, [CSRF_HEADER]: other.csrf },
      }),
    )
    expect(out.status).toBe(303)
    expect(await last("admin.sign_out")).toMatchObject({ actor: { kind: "admin", id: EMAIL }, outcome: "success" })
  })

  test("administrators: adding one (and a refused addition, with its code)", async () => {
    expect(
      (await api("POST", "/v1/admin/admins", { email: "second@cabinet.example", password: PASSWORD })).status,
    ).toBe(201)
    expect(await last("admin.create")).toMatchObject({
      actor: { kind: "admin", id: EMAIL },
      target: "admin:second@cabinet.example",
      outcome: "success",
    })
    expect(
      (await api("POST", "/v1/admin/admins", { email: "third@cabinet.example", password: "tiny-pw" })).status,
    ).toBe(400)
    const refused = await last("admin.create")
    expect(refused).toMatchObject({ target: "admin:third@cabinet.example", outcome: "failure" })
    expect(JSON.stringify(refused)).not.toContain("tiny-pw")
  })

  test("API keys: creation and revocation, by the signed-in admin", async () => {
    const created = await api("POST", "/v1/admin/keys", { name: "dossier-12", project: "matter-12" })
    expect(created.status).toBe(201)
    const { id, key } = (await created.json()) as { id: string; key: string }
    const row = await last("key.create")
    expect(row).toMatchObject({ actor: { kind: "admin", id: EMAIL }, outcome: "success", project: "matter-12" })
    expect(JSON.stringify(row)).not.toContain(key)
    expect((await api("DELETE", `/v1/admin/keys/${id}`)).status).toBe(204)
    expect(await last("key.revoke")).toMatchObject({ target: `key:${id}`, outcome: "success" })
  })

  test("licence: a refused token is recorded as a failure with its code; removal as a success", async () => {
    expect((await api("POST", "/v1/admin/license/upload", { token: "not-a-jwt" })).status).toBeGreaterThanOrEqual(400)
    const row = await last("license.install")
    expect(row.outcome).toBe("failure")
    expect(row.details.error).toBeString()
    expect(JSON.stringify(row)).not.toContain("not-a-jwt")
    await api("DELETE", "/v1/admin/license")
    expect(await last("license.remove")).toMatchObject({ actor: { kind: "admin", id: EMAIL } })
  })

  test("the Licence page's forms are recorded like their JSON twins", async () => {
    const r = await handle(
      app,
      new Request("http://localhost/admin/license/upload", {
        method: "POST",
        headers: { cookie, "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ _csrf: csrf, token: "garbage.token.here" }).toString(),
      }),
    )
    expect(r.status).toBeGreaterThanOrEqual(400)
    const row = await last("license.install")
    expect(row).toMatchObject({ actor: { kind: "admin", id: EMAIL }, outcome: "failure" })
    expect(JSON.stringify(row)).not.toContain("garbage.token.here")
  })

  test("settings: the licence enforcement switch", async () => {
    expect((await api("POST", "/v1/admin/license/enforce", { enabled: false })).status).toBe(200)
    expect(await last("setting.change")).toMatchObject({
      target: "setting:license_enforce",
      details: { enabled: false },
      outcome: "success",
    })
  })

  test("workers: a provisioning code, the enrolment it allows, the revocation", async () => {
    const p = await api("POST", "/v1/admin/workers/provision", { os: "linux", hardware: "cpu", label: "compta-3" })
    expect(p.status).toBe(200)
    const { code } = (await p.json()) as { code: string }
    const prov = await last("worker.provision_code")
    expect(prov).toMatchObject({ actor: { kind: "admin", id: EMAIL }, details: { os: "linux", label: "compta-3" } })
    expect(JSON.stringify(prov)).not.toContain(code)
    const r = await api("POST", "/v1/provisioning/redeem", { code, name: "compta-3" }, false)
    expect(r.status).toBe(200)
    expect(await last("worker.enrol")).toMatchObject({ actor: { kind: "system" }, target: "worker:compta-3" })
    const again = await api("POST", "/v1/provisioning/redeem", { code, name: "intruder" }, false)
    expect(again.status).toBe(401)
    expect(await last("worker.enrol")).toMatchObject({ target: "worker:intruder", outcome: "denied" })
    const [{ id }] = await db.sql`select id::int from worker_tokens order by id desc limit 1`
    expect((await api("POST", `/v1/admin/workers/tokens/${id}/revoke`)).status).toBe(200)
    expect(await last("worker.revoke")).toMatchObject({ target: `worker:${id}`, outcome: "success" })
  })

  test("the Workers page's forms are recorded like their JSON twins", async () => {
    const form = (path: string, fields: Record<string, string>) =>
      handle(
        app,
        new Request(`http://localhost${path}`, {
          method: "POST",
          headers: { cookie, "content-type": "application/x-www-form-urlencoded" },
          body: new URLSearchParams({ _csrf: csrf, ...fields }).toString(),
        }),
      )
    expect((await form("/workers/provision", { os: "linux", hardware: "cpu", label: "accueil" })).status).toBe(200)
    expect(await last("worker.provision_code")).toMatchObject({
      actor: { kind: "admin", id: EMAIL },
      outcome: "success",
      details: { os: "linux", label: "accueil" },
    })
    const [{ id }] = await db.sql`select id::int from worker_tokens order by id desc limit 1`
    expect((await form(`/workers/tokens/${id}/revoke`, {})).status).toBe(200)
    expect(await last("worker.revoke")).toMatchObject({
      actor: { id: EMAIL },
      target: `worker:${id}`,
      outcome: "success",
    })
  })
})

describe("the audit API", () => {
  test("administrators only", async () => {
    for (const path of [
      "/v1/admin/audit",
      "/v1/admin/audit/verify",
      "/v1/admin/audit/export?format=csv",
      "/v1/projects/matter-12/audit",
    ]) {
      const r = await api("GET", path, undefined, false)
      expect(r.status).toBe(401)
      expect(((await r.json()) as { error: string }).error).toBe("admin_auth_required")
    }
  })

  test("filters by actor, action family and time; a project's rows through the guide's route", async () => {
    const r = await api("GET", `/v1/admin/audit?actor=admin:${EMAIL}&action=key&from=2026-01-01T00:00:00Z&limit=500`)
    const { data } = (await r.json()) as { data: AuditRow[] }
    expect(data.map((x) => x.action).sort()).toEqual(["key.create", "key.revoke"])
    const p = await api("GET", "/v1/projects/matter-12/audit?limit=500")
    expect(((await p.json()) as { data: AuditRow[] }).data.map((x) => x.action)).toEqual(["key.create"])
    expect((await api("GET", "/v1/admin/audit?from=yesterday")).status).toBe(400)
  })

  test("the export streams every row as CSV, is itself recorded, and the chain verifies", async () => {
    const r = await api("GET", "/v1/admin/audit/export?format=csv")
    expect(r.status).toBe(200)
    expect(r.headers.get("content-type")).toStartWith("text/csv")
    expect(r.headers.get("content-disposition")).toContain("attachment")
    const [header, ...rows] = parseCsv(await r.text())
    expect(header[0]).toBe("id")
    const [{ n }] = await db.sql`select count(*)::int as n from audit_log`
    expect(rows.length).toBe(n)
    expect(rows[rows.length - 1][4]).toBe("audit.export")
    const v = await api("GET", "/v1/admin/audit/verify")
    expect(await v.json()).toEqual({ ok: true, rows: n, first_broken: null })
    expect((await api("GET", "/v1/admin/audit/export?format=xml")).status).toBe(400)
  })
})
