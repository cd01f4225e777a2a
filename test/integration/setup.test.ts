// The first-boot wizard over HTTP, in-process against a real embedded database: the gate, every
// screen, validation errors, sector defaults, 409 after completion, login/logout, CSRF, rate limit,
// legacy re-hash. Multi-process behaviour (CLI, two pools on one database) is in setup-processes.test.ts.
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { cleanupAll } from "../support/proc.ts"
import { shellApp, FORM_STEPS, type Client } from "../support/shell.ts"
import { rehashLegacyPasswords } from "../../core/auth/legacy.ts"
import { bootSetup } from "../../core/setup/index.ts"
import { testDatabase } from "../support/db.ts"
import type { Database } from "../../core/db/client.ts"

afterAll(cleanupAll)

// One database for the whole file (each embedded start costs seconds); shellApp({db}) wipes it.
let db: Database
beforeAll(async () => {
  db = await testDatabase()
})
const fresh = (opts: Parameters<typeof shellApp>[0] = {}) => shellApp({ ...opts, db })

async function walk(c: Client, steps = FORM_STEPS) {
  for (const [step, form] of steps) {
    const r = await c.req(`/setup/step/${step}`, { form, headers: { "hx-request": "true" } })
    expect(r.status, `${step}: ${await r.clone().text()}`).toBe(200)
  }
  return c.req("/setup/step/recap", { form: {}, headers: { "hx-request": "true" } })
}

describe("wizard gate", () => {
  let s: Awaited<ReturnType<typeof fresh>>
  let c: Client
  beforeAll(async () => {
    s = await fresh()
    c = s.client()
  })

  test("an API client gets 503 cluster_setup_pending with the setup URL", async () => {
    const r = await c.req("/v1/workers")
    expect(r.status).toBe(503)
    expect(await r.json()).toMatchObject({ error: "cluster_setup_pending", setup_url: "/setup/ui" })
    expect(r.headers.get("content-security-policy")).toContain("default-src 'self'")
  })

  test("a browser is redirected (307) to /setup/ui", async () => {
    for (const path of ["/", "/license", "/v1/workers"]) {
      const r = await c.req(path, { headers: { accept: "text/html,application/xhtml+xml" } })
      expect(r.status).toBe(307)
      expect(r.headers.get("location")).toBe("/setup/ui")
    }
  })

  test("/v1/status, /setup/* and static assets stay open", async () => {
    expect((await c.req("/v1/status")).status).toBe(200)
    expect((await c.req("/setup/ui")).status).toBe(200)
    expect((await c.req("/setup/state")).status).toBe(200)
    const js = await c.req("/assets/htmx.min.js")
    expect(js.status).toBe(200)
    expect(js.headers.get("content-type")).toContain("javascript")
    expect((await js.text()).length).toBeGreaterThan(10_000)
  })
})

describe("wizard screens", () => {
  test("the happy path through every screen signs the admin in and opens the API", async () => {
    const s = await fresh()
    const c = s.client()
    const first = await (await c.req("/setup/ui")).text()
    expect(first).toContain('data-step="license"')
    const done = await walk(c)
    expect(done.headers.get("hx-redirect")).toBe("/")
    expect(c.cookies.has("cellule_session")).toBe(true)
    // Completion is the audit log's first action: who completed, and what the sector's defaults filled.
    const [row] = await db.sql`select actor_kind, actor_id, outcome, details from audit_log
                               where action = 'setup.complete' order by id desc limit 1`
    expect(row).toMatchObject({ actor_kind: "admin", outcome: "success", details: { sector: expect.any(String) } })
    expect(row.actor_id).toContain("@")
    const cookie = done.headers.getSetCookie().join(";")
    expect(cookie).toContain("HttpOnly")
    expect(cookie).toContain("SameSite=Strict")
    expect(cookie).not.toContain("Secure") // plain http; see the TLS test below
    const dash = await c.req("/", { headers: { accept: "text/html" } })
    expect(dash.status).toBe(200)
    const html = await dash.text()
    expect(html).toContain("Dupont &amp; Associés")
    expect(html).toContain('id="headcount">52<')
    expect((await c.req("/v1/workers")).status).toBe(200)
    const [admin] = await s.db.sql`select password_hash from admin_users where email = 'it@dupont.example'`
    expect(admin.password_hash).toStartWith("$argon2id$")
    const [st] = await s.db.sql`select admin_password_hash, answers::text as a from cluster_setup_state`
    expect(st.admin_password_hash).toBeNull()
    expect(st.a).not.toContain("correct-horse")
  })

  test("each screen re-renders with its errors next to the fields", async () => {
    const s = await fresh()
    const c = s.client()
    const cases: [string, Record<string, string | string[]>, string[]][] = [
      ["identity", { company: "", sector: "BAKERY" }, ["err-company", "err-sector"]],
      ["topology", { site_name: [""], site_headcount: [""] }, ["err-sites"]],
      [
        "topology",
        { site_name: ["Paris", "paris"], site_headcount: ["1", "-3"] },
        ["err-site_name-1", "err-site_headcount-1"],
      ],
      [
        "hardware",
        { gpu_servers: "two", provisioning_hub_url: "ftp://x" },
        ["err-gpu_servers", "err-provisioning_hub_url"],
      ],
      ["models", {}, ["err-tiers"]],
      ["security", { retention_months: "7" }, ["err-retention_months"]],
      [
        "admin",
        { email: "nope", password: "short", password_confirm: "other" },
        ["err-email", "err-password", "err-password_confirm"],
      ],
    ]
    for (const [step, form, ids] of cases) {
      const r = await c.req(`/setup/step/${step}`, { form, headers: { "hx-request": "true" } })
      expect(r.status).toBe(400)
      const html = await r.text()
      for (const id of ids) expect(html, `${step} shows ${id}`).toContain(`id="${id}"`)
      expect(html).not.toContain("short") // the password is never echoed back
    }
    const json = await c.req("/setup/step/identity", { json: { company: "", sector: "LAW" } })
    expect(json.status).toBe(400)
    expect(await json.json()).toMatchObject({ error: "setup_step_invalid", errors: { company: "required" } })
    const early = await c.req("/setup/step/recap", { json: {} })
    expect(early.status).toBe(400)
    expect(((await early.json()) as { missing: string[] }).missing).toContain("identity")
  })

  test("wizard forms need the wizard's CSRF token (a page on another site cannot post them)", async () => {
    const s = await fresh()
    const c = s.client()
    const page = await c.req("/setup/ui")
    const cookie = page.headers.getSetCookie().find((h) => h.startsWith("cellule_setup_csrf="))!
    expect(cookie).toContain("HttpOnly")
    expect(cookie).toContain("SameSite=Strict")
    const token = cookie.split(";")[0].split("=")[1]
    expect(await page.text()).toContain(`name="_csrf" value="${token}"`)
    const evil = s.client() // no cookie: what a cross-site form post carries
    for (const form of [
      { email: "evil@x.example", password: "evil-password-123", _csrf: token },
      { email: "evil@x.example", password: "evil-password-123", _csrf: "" },
    ]) {
      const r = await evil.req("/setup/step/admin", { form, headers: { "hx-request": "true" } })
      expect(r.status).toBe(403)
      expect(((await r.json()) as { error: string }).error).toBe("csrf_invalid")
    }
    const wrong = await c.req("/setup/step/admin", {
      form: { email: "it@x.example", password: "good-password-123", _csrf: "x".repeat(32) },
    })
    expect(wrong.status).toBe(403)
    expect((await s.db.sql`select answers from cluster_setup_state`)[0]?.answers?.admin).toBeUndefined()
  })

  test("the logo is checked by content and SVG scripts are removed", async () => {
    const s = await fresh()
    const c = s.client()
    const form = new FormData()
    form.set("company", "Logo SA")
    form.set("sector", "DESIGN")
    form.set("logo", new File(["not an image"], "logo.png", { type: "image/png" }))
    const bad = await c.req("/setup/step/identity", { form, headers: { "hx-request": "true" } })
    expect(bad.status).toBe(400)
    expect(await bad.text()).toContain('id="err-logo"')
    form.set("logo", new File([new Uint8Array(600 * 1024).fill(0x89)], "big.png"))
    expect((await c.req("/setup/step/identity", { form })).status).toBe(400)
    form.set(
      "logo",
      new File(
        [
          '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script><a href="javascript:x"><rect width="5" height="5"/></a></svg>',
        ],
        "l.svg",
      ),
    )
    expect((await c.req("/setup/step/identity", { form })).status).toBe(200)
    const logo = await c.req("/setup/logo")
    expect(logo.headers.get("content-type")).toBe("image/svg+xml")
    const svg = await logo.text()
    expect(svg).toContain("<rect")
    for (const bad of ["onload", "<script", "javascript:"]) expect(svg).not.toContain(bad)
  })
})

describe("sector defaults", () => {
  test.each([
    [
      "LAW, retention left empty → 120 months from the sector",
      "LAW",
      "",
      120,
      { retention_months: 120, audit_grade: "strict", template: "Client matter:" },
    ],
    [
      "LAW, retention 12 chosen → 12 (the admin wins)",
      "LAW",
      "12",
      12,
      { audit_grade: "strict", template: "Client matter:" },
    ],
    [
      "HEALTHCARE → 240 months, iso27001",
      "HEALTHCARE",
      "",
      240,
      { retention_months: 240, audit_grade: "iso27001", template: "Patient:" },
    ],
    [
      "CONSULTING → 60 months, strict",
      "CONSULTING",
      "",
      60,
      { retention_months: 60, audit_grade: "strict", template: "Engagement:" },
    ],
    ["OTHER, unlimited chosen → unlimited", "OTHER", "unlimited", null, { audit_grade: "basic", template: "" }],
  ])("%s", async (_name, sector, retention, months, applied) => {
    const s = await fresh()
    const c = s.client()
    const steps = FORM_STEPS.map(([k, v]) => [
      k,
      k === "identity" ? { ...v, sector } : k === "security" ? { retention_months: retention } : v,
    ]) as typeof FORM_STEPS
    const recap = await (async () => {
      for (const [step, form] of steps) await c.req(`/setup/step/${step}`, { form })
      return (await c.req("/setup/ui?step=recap")).text()
    })()
    expect(recap).toContain('id="sector-defaults"')
    const done = await c.req("/setup/step/recap", { json: {} })
    expect(done.status).toBe(200)
    expect(((await done.json()) as { sector_defaults_applied: unknown }).sector_defaults_applied).toEqual(applied)
    const [p] = await s.db.sql`select audit_retention_months from cluster_profile`
    expect(p.audit_retention_months).toBe(months)
    const [st] = await s.db.sql`select sector_defaults_applied from cluster_setup_state`
    expect(st.sector_defaults_applied.applied).toEqual(applied)
  })
})

describe("after completion", () => {
  let s: Awaited<ReturnType<typeof fresh>>
  beforeAll(async () => {
    s = await fresh()
    await walk(s.client())
  })

  test("POST /setup/step/* answers 409 pointing at the re-open flow", async () => {
    for (const step of ["identity", "admin", "recap"]) {
      const r = await s.client().req(`/setup/step/${step}`, { json: { company: "Evil", sector: "LAW" } })
      expect(r.status).toBe(409)
      const body = (await r.json()) as { error: string; message: string }
      expect(body.error).toBe("setup_completed")
      expect(body.message).toContain("re-open flow")
    }
  })

  test("/setup/state no longer tells anything about the cluster", async () => {
    const body = await (await s.client().req("/setup/state")).json()
    expect(body).toMatchObject({ completed: true, missing: [] })
    expect(JSON.stringify(body)).not.toContain("dupont")
  })

  test("/setup/ui sends the browser to the dashboard", async () => {
    expect((await s.client().req("/setup/ui")).headers.get("location")).toBe("/")
  })

  test("login and logout", async () => {
    const u = s.client()
    const anon = await u.req("/", { headers: { accept: "text/html" } })
    expect(anon.status).toBe(303)
    expect(anon.headers.get("location")).toBe("/login?next=%2F")
    const bad = await u.req("/login", { form: { email: "it@dupont.example", password: "wrong-password-xx" } })
    expect(bad.status).toBe(401)
    expect(await bad.text()).toContain('id="login-error"')
    const ok = await u.req("/login", {
      form: { email: "IT@dupont.example", password: "correct-horse-battery", next: "/license" },
    })
    expect(ok.status).toBe(303)
    expect(ok.headers.get("location")).toBe("/license")
    expect((await u.req("/", { headers: { accept: "text/html" } })).status).toBe(200)
    const csrf = await u.csrf()
    const out = await u.req("/logout", { form: { _csrf: csrf } })
    expect(out.status).toBe(303)
    expect(u.cookies.has("cellule_session")).toBe(false)
    expect((await u.req("/", { headers: { accept: "text/html" } })).status).toBe(303)
  })

  test("an open redirect through ?next= is refused", async () => {
    const u = s.client()
    const ok = await u.req("/login", {
      form: { email: "it@dupont.example", password: "correct-horse-battery", next: "//evil.example/x" },
    })
    expect(ok.headers.get("location")).toBe("/")
  })

  test("state-changing forms without the CSRF token are refused (403 csrf_invalid)", async () => {
    const u = s.client()
    await u.req("/login", { form: { email: "it@dupont.example", password: "correct-horse-battery" } })
    for (const [path, form] of [
      ["/logout", {}],
      ["/admin/license/enforce", { enabled: "false" }],
      ["/admin/license/enforce", { enabled: "false", _csrf: "forged" }],
    ] as const) {
      const r = await u.req(path, { form })
      expect(r.status).toBe(403)
      expect(((await r.json()) as { error: string }).error).toBe("csrf_invalid")
    }
    const [row] = await s.db.sql`select enforce from cluster_license where id = 1`
    expect(row?.enforce ?? true).toBe(true)
    const csrf = await u.csrf()
    const r = await u.req("/admin/license/enforce", { form: { enabled: "false" }, headers: { "x-csrf-token": csrf } })
    expect(r.status).toBe(200)
    expect(await r.text()).toContain('data-enforce="false"')
  })

  test("logins are rate limited per account and per IP", async () => {
    const u = s.client()
    for (let i = 0; i < 5; i++)
      expect(
        (await u.req("/login", { form: { email: "victim@dupont.example", password: `guess-${i}-xxxxxxx` } })).status,
      ).toBe(401)
    const limited = await u.req("/login", { form: { email: "victim@dupont.example", password: "guess-6-xxxxxxx" } })
    expect(limited.status).toBe(429)
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0)
    // other accounts from the same IP still work until the per-IP budget (20) is spent
    expect(
      (await u.req("/login", { form: { email: "it@dupont.example", password: "correct-horse-battery" } })).status,
    ).toBe(303)
    for (let i = 0; i < 20; i++)
      await u.req("/login", { form: { email: `x${i}@dupont.example`, password: "nope-nope-nope" } })
    expect(
      (await u.req("/login", { form: { email: "it@dupont.example", password: "correct-horse-battery" } })).status,
    ).toBe(429)
    s.clock.advance(15 * 60_000)
    expect(
      (await u.req("/login", { form: { email: "it@dupont.example", password: "correct-horse-battery" } })).status,
    ).toBe(303)
  })

  test("the session cookie is Secure behind TLS", async () => {
    const r = await s
      .client()
      .req("/login", { form: { email: "it@dupont.example", password: "correct-horse-battery" } })
    expect(r.headers.getSetCookie()[0]).not.toContain("Secure")
    const { handle } = await import("../../core/http/app.ts")
    const tls = await handle(
      s.app,
      new Request("https://localhost/login", {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: "email=it%40dupont.example&password=correct-horse-battery",
      }),
    )
    expect(tls.headers.getSetCookie()[0]).toContain("; Secure")
  })
})

describe("legacy passwords", () => {
  test("clear-text admin passwords are re-hashed at boot, idempotently, and still log in", async () => {
    const s = await fresh()
    await s.db
      .sql`insert into admin_users (email, password_hash) values ('old@firm.example', 'legacy-password-1'), ('new@firm.example', '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA')`
    await bootSetup(s.db.sql, s.clock)
    const rows = await s.db.sql`select email, password_hash from admin_users order by email`
    expect(rows[1].password_hash).toStartWith("$argon2id$")
    expect(rows[0].password_hash).toBe("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA")
    expect(await rehashLegacyPasswords(s.db.sql)).toBe(0)
    const [again] = await s.db.sql`select password_hash from admin_users where email = 'old@firm.example'`
    expect(again.password_hash).toBe(rows[1].password_hash)
    await s.db.sql`insert into cluster_setup_state (id, completed_at) values (1, now())`
    const gate = await bootSetup(s.db.sql, s.clock)
    expect(await gate.isComplete()).toBe(true)
    const r = await s.client().req("/login", { form: { email: "old@firm.example", password: "legacy-password-1" } })
    expect(r.status).toBe(303)
  })
})
