// The Workers page and the admin API in-process: add a worker (code + snippets, FR and EN), revoke
// from the dashboard (its connections closed), admin required, CSRF enforced on the form.
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { testDatabase } from "../../support/db.ts"
import { cleanupAll } from "../../support/proc.ts"
import { createAdmin, createSession } from "../../../core/auth/admins.ts"
import { SESSION_COOKIE } from "../../../core/http/guards.ts"
import { buildApp, handle, withHooks } from "../../../core/http/app.ts"
import { loadConfig } from "../../../core/config/index.ts"
import { ManualClock } from "../../../core/clock.ts"
import { Scheduler } from "../../../core/scheduler/scheduler.ts"
import { workersPage } from "../../../core/http/routes/pages/workers.ts"
import { provisioningRoutes } from "../../../core/http/routes/provisioning.ts"
import { installRoutes } from "../../../core/http/routes/install.ts"
import { poolServices } from "../../../core/pool/services.ts"

const clock = new ManualClock()
const closed: number[] = []
const conns = { closeToken: (id: number) => (closed.push(id), 1) }
let app: ReturnType<typeof buildApp>
let cookie: string
let csrf: string

afterAll(cleanupAll)
beforeAll(async () => {
  const db = await testDatabase()
  const scheduler = new Scheduler({ clock, maxQueue: 0, queueTimeoutMs: 1000, heartbeatMs: 1000 })
  const ctx = poolServices({ config: loadConfig("pool", {}, {}), db, clock, scheduler, hub: conns })
  app = buildApp(ctx, withHooks(workersPage, provisioningRoutes, installRoutes))
  const a = await createAdmin(db.sql, "it@corp.example", "a long enough password")
  const s = await createSession(db.sql, a.id, clock)
  cookie = `${SESSION_COOKIE}=${s.token}`
  csrf = s.csrf
}, 60_000)

const form = (path: string, fields: Record<string, string>, lang = "en") =>
  handle(
    app,
    new Request(`http://localhost${path}`, {
      method: "POST",
      headers: { cookie: `${cookie}; cellule_lang=${lang}`, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(fields).toString(),
    }),
  )

describe("Workers page", () => {
  test("add a worker: a single-use code and the snippets for the chosen OS, in French", async () => {
    const res = await form("/workers/provision", { _csrf: csrf, os: "linux", hardware: "cpu", label: "compta-3" }, "fr")
    expect(res.status).toBe(200)
    const page = await res.text()
    expect(page).toContain("Code de provisioning à usage unique")
    const code = /id="provision-code">(cwp_[\w-]+)</.exec(page)![1]
    expect(page).toContain(`curl -fsSL http://localhost/v1/install/worker.sh | sudo bash -s -- --code ${code}`)
    expect(page).toContain("Restart=on-failure")
    // The code works exactly once.
    const redeem = () =>
      handle(
        app,
        new Request("http://localhost/v1/provisioning/redeem", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ code, name: "compta-3" }),
        }),
      )
    expect((await redeem()).status).toBe(200)
    expect((await redeem()).status).toBe(401)
  })

  test("the enrolled worker is listed and revoked from the page; its connections are closed", async () => {
    const list = await (await handle(app, new Request("http://localhost/workers", { headers: { cookie } }))).text()
    const id = Number(/data-token-id="(\d+)"/.exec(list)![1])
    expect(list).toContain("compta-3")
    const res = await form(`/workers/tokens/${id}/revoke`, { _csrf: csrf })
    expect(res.status).toBe(200)
    expect(await res.text()).toContain("Token of compta-3 revoked; 1 connection(s) closed.")
    expect(closed).toEqual([id])
  })

  test("a form without the CSRF token is refused; without a session it redirects to login; the API needs an admin", async () => {
    expect((await form("/workers/provision", { os: "linux", hardware: "cpu" })).status).toBe(403)
    const anon = await handle(app, new Request("http://localhost/workers"))
    expect(anon.status).toBe(303)
    const api = await handle(
      app,
      new Request("http://localhost/v1/admin/workers/provision", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ os: "linux", hardware: "cpu" }),
      }),
    )
    expect(api.status).toBe(401)
    expect((await api.json()).error).toBe("admin_auth_required")
  })

  test("20 concurrent redemptions of one code through the HTTP route: one 200, nineteen 401", async () => {
    const page = await (await form("/workers/provision", { _csrf: csrf, os: "linux", hardware: "cpu" })).text()
    const code = /id="provision-code">(cwp_[\w-]+)</.exec(page)![1]
    const statuses = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        handle(
          app,
          new Request("http://localhost/v1/provisioning/redeem", {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ code, name: `pc-${i}` }),
          }),
        ).then((r) => r.status),
      ),
    )
    expect(statuses.filter((s) => s === 200).length).toBe(1)
    expect(statuses.filter((s) => s === 401).length).toBe(19)
  })

  test("Windows and macOS get their own service definitions", async () => {
    const win = await (await form("/workers/provision", { _csrf: csrf, os: "windows", hardware: "gpu" })).text()
    expect(win).toContain("S-1-5-18")
    expect(win).toContain("worker.ps1")
    const mac = await (await form("/workers/provision", { _csrf: csrf, os: "macos", hardware: "gpu" })).text()
    expect(mac).toContain("/Library/LaunchDaemons/com.cellule.worker.plist")
  })
})
