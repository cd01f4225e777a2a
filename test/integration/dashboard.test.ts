// The dashboard shell in-process: language (Accept-Language default, persisted choice), every page of
// the guide's §0 reachable with security headers, Overview data, License page forms and banner.
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { cleanupAll } from "../support/proc.ts"
import { shellApp, FORM_STEPS, type Client } from "../support/shell.ts"
import { NAV } from "../../views/layout.ts"
import { generateKeyPair, issueLicense, toHex } from "../../core/license/index.ts"

afterAll(cleanupAll)

let s: Awaited<ReturnType<typeof shellApp>>
let keys: Awaited<ReturnType<typeof generateKeyPair>>
let admin: Client

beforeAll(async () => {
  keys = await generateKeyPair()
  s = await shellApp({ pubkeyHex: toHex(keys.publicKey) })
  admin = s.client()
  for (const [step, form] of FORM_STEPS) await admin.req(`/setup/step/${step}`, { form })
  await admin.req("/setup/step/recap", { form: { go: "next" } })
})

const page = (c: Client, path: string, headers: Record<string, string> = {}) =>
  c.req(path, { headers: { accept: "text/html", ...headers } })

describe("dashboard shell", () => {
  test("every page of §0 is in the menu and answers 200 with the security headers", async () => {
    expect(NAV.map((n) => n.id)).toEqual([
      "overview",
      "federation",
      "workers",
      "balancing",
      "projects",
      "topology",
      "models",
      "settings",
      "license",
      "documentation",
      "audit",
    ])
    for (const n of NAV) {
      const r = await page(admin, n.href)
      expect(r.status, n.href).toBe(200)
      expect(r.headers.get("content-security-policy")).toContain("script-src 'self'")
      expect(r.headers.get("x-frame-options")).toBe("DENY")
      const html = await r.text()
      expect(html).toContain(`href="${n.href}" class="active"`)
      expect(html).not.toMatch(/<script(?![^>]*\bsrc=)/) // no inline script: the CSP would block it
      if (n.issue) expect(html).toContain("coming with issue")
    }
  })

  test("French from Accept-Language, then the persisted choice wins", async () => {
    const fr = await (await page(admin, "/", { "accept-language": "fr-FR,fr;q=0.9,en;q=0.5" })).text()
    expect(fr).toContain('<html lang="fr">')
    expect(fr).toContain("Vue d’ensemble")
    const sw = await admin.req("/lang/en?next=/license")
    expect(sw.status).toBe(303)
    expect(sw.headers.get("location")).toBe("/license")
    const en = await (await page(admin, "/", { "accept-language": "fr-FR" })).text()
    expect(en).toContain('<html lang="en">')
    expect(en).toContain(">Overview<")
    expect((await admin.req("/lang/fr?next=//evil.example")).headers.get("location")).toBe("/")
    await admin.req("/lang/en")
  })

  test("Overview: pool identity, declared headcount, live fragment polled every 2 s", async () => {
    const html = await (await page(admin, "/")).text()
    expect(html).toContain("unit-pool")
    expect(html).toContain('id="headcount">52<')
    expect(html).toContain('hx-get="/overview/live" hx-trigger="every 2s"')
    const live = await page(admin, "/overview/live")
    expect(live.status).toBe(200)
    expect(await live.text()).toContain('id="worker-count">0<')
    const data = (await (await admin.req("/overview.json")).json()) as { sites: unknown[]; queueDepth: number }
    expect(data.sites).toEqual([
      { name: "Paris", headcount: 40 },
      { name: "Lyon", headcount: 12 },
    ])
    expect(data.queueDepth).toBe(0)
    const stream = await admin.req("/overview/stream")
    expect(stream.headers.get("content-type")).toContain("text/event-stream")
    const reader = stream.body!.getReader()
    const first = new TextDecoder().decode((await reader.read()).value)
    await reader.cancel()
    expect(first).toStartWith("data: ")
    expect(first).toContain('id="worker-count">0<')
    expect(first.trimEnd().split("\n")).toHaveLength(1) // one data line: the fragment has no newline
    expect((await s.client().req("/overview/stream")).status).toBe(401)
    expect((await s.client().req("/overview.json")).status).toBe(401)
    expect((await s.client().req("/overview/live")).status).toBe(401)
  })

  test("License page: evaluation banner, a forged token is refused on the page, a real one clears the banner", async () => {
    const before = await (await page(admin, "/license")).text()
    expect(before).toContain('id="license-banner" data-status="none"')
    const csrf = await admin.csrf()
    const forged = await admin.req("/admin/license/upload", {
      form: { _csrf: csrf, token: "eyJhbGciOiJub25lIn0.eyJ0aWVyIjoieCJ9." },
    })
    expect(forged.status).toBe(400)
    expect(await forged.text()).toContain("jwt_invalid")
    const { token } = await issueLicense({ clientId: "dupont", tier: "cabinet", durationDays: 365 }, keys.privateKey, {
      clock: s.clock,
    })
    const ok = await admin.req("/admin/license/upload", { form: { _csrf: csrf, token } })
    expect(ok.status).toBe(200)
    const html = await ok.text()
    expect(html).toContain('data-status="active"')
    expect(html).not.toContain('id="license-banner"')
    expect(html).not.toContain(token) // the token is never shown back
    // Months later (sessions last 12 h: sign in again each time), the banner follows the licence.
    const login = () => admin.req("/login", { form: { email: "it@dupont.example", password: "correct-horse-battery" } })
    s.clock.advance(340 * 86_400_000)
    await login()
    expect(await (await page(admin, "/")).text()).toContain('data-status="warning_j30"')
    s.clock.advance(30 * 86_400_000)
    await login()
    expect(await (await page(admin, "/")).text()).toMatch(/data-status="(grace|expired)"/)
  })
})
