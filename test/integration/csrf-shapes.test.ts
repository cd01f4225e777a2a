// Cross-site request forgery against the wizard and the cookie routes, in the shapes a hostile web page
// can send without a CORS preflight (a "simple" request): form, multipart and text/plain bodies, a
// charset parameter that mentions json, upper case, no content type at all; and any request that
// announces a foreign Origin or `Sec-Fetch-Site: cross-site`. None may change anything.
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { cleanupAll } from "../support/proc.ts"
import { shellApp, FORM_STEPS, type Client } from "../support/shell.ts"
import { testDatabase } from "../support/db.ts"
import type { Database } from "../../core/db/client.ts"

afterAll(cleanupAll)

let db: Database
beforeAll(async () => {
  db = await testDatabase()
})

const identity = (company: string) => new URLSearchParams({ company, sector: "LAW" }).toString()
const multipart = (company: string) => {
  const f = new FormData()
  f.set("company", company)
  f.set("sector", "LAW")
  return f
}

/** What the wizard has saved for the identity step (nothing, if every forgery was refused). */
async function savedCompany(c: Client): Promise<unknown> {
  const state = (await (await c.req("/setup/state")).json()) as { answers?: { identity?: { company?: unknown } } }
  return state.answers?.identity?.company
}

describe("wizard: a forged step changes nothing", () => {
  let c: Client
  beforeAll(async () => {
    const s = await shellApp({ db })
    c = s.client()
    await c.setupCsrf() // the victim's browser has the wizard's CSRF cookie; the forger does not know its value
  })

  test.each([
    ["form with ;charset=json", "application/x-www-form-urlencoded;charset=json", identity],
    ["form, upper case", "APPLICATION/X-WWW-FORM-URLENCODED", identity],
    ["text/plain carrying JSON", "text/plain", (company: string) => JSON.stringify({ company, sector: "LAW" })],
    ["text/plain;charset=json", "text/plain; charset=json", (company: string) => JSON.stringify({ company })],
    ["multipart without the token", "", multipart],
    ["no content type", null, identity],
  ])("%s → refused", async (name, type, body) => {
    const headers: Record<string, string> = { origin: "http://localhost" }
    if (type) headers["content-type"] = type
    const r = await c.req("/setup/step/identity", { method: "POST", headers, body: body(`Evil: ${name}`) as BodyInit })
    expect([403, 415]).toContain(r.status)
    expect(await savedCompany(c)).not.toBe(`Evil: ${name}`)
  })

  test("a JSON body from a foreign Origin → 403 origin_forbidden", async () => {
    const r = await c.req("/setup/step/identity", {
      method: "POST",
      headers: { "content-type": "application/json", origin: "http://evil.example" },
      body: JSON.stringify({ company: "Evil JSON", sector: "LAW" }),
    })
    expect(r.status).toBe(403)
    expect(((await r.json()) as { error: string }).error).toBe("origin_forbidden")
    expect(await savedCompany(c)).not.toBe("Evil JSON")
  })

  test("a valid form with its token but Sec-Fetch-Site: cross-site → 403 origin_forbidden", async () => {
    const r = await c.req("/setup/step/identity", {
      form: { company: "Evil cross-site", sector: "LAW" },
      headers: { "sec-fetch-site": "cross-site" },
    })
    expect(r.status).toBe(403)
    expect(await savedCompany(c)).not.toBe("Evil cross-site")
  })

  test("the real wizard still works: same-origin form with its token, and JSON without Origin (curl)", async () => {
    const r = await c.req("/setup/step/identity", {
      form: { company: "Dupont", sector: "LAW" },
      headers: { origin: "http://localhost", "sec-fetch-site": "same-origin" },
    })
    expect(r.status).toBe(200)
    expect(await savedCompany(c)).toBe("Dupont")
    const j = await c.req("/setup/step/identity", { json: { company: "Dupont SA", sector: "LAW" } })
    expect(j.status).toBe(200)
    expect(await savedCompany(c)).toBe("Dupont SA")
  })
})

describe("cookie routes: a foreign Origin cannot act with the admin's session", () => {
  let c: Client
  beforeAll(async () => {
    const s = await shellApp({ db })
    c = s.client()
    for (const [step, form] of FORM_STEPS) await c.req(`/setup/step/${step}`, { form })
    await c.req("/setup/step/recap", { form: {} })
  })

  test("logout with the session cookie and its CSRF token but a foreign Origin → 403, still signed in", async () => {
    const csrf = await c.csrf()
    const r = await c.req("/logout", { form: { _csrf: csrf }, headers: { origin: "http://evil.example" } })
    expect(r.status).toBe(403)
    expect(((await r.json()) as { error: string }).error).toBe("origin_forbidden")
    expect((await c.req("/", { headers: { accept: "text/html" } })).status).toBe(200)
  })

  test("Origin: null (a sandboxed frame) is foreign", async () => {
    const csrf = await c.csrf()
    const r = await c.req("/logout", { form: { _csrf: csrf }, headers: { origin: "null" } })
    expect(r.status).toBe(403)
  })

  test("reads are not refused for a foreign Origin", async () => {
    const r = await c.req("/v1/status", { headers: { origin: "http://elsewhere.example" } })
    expect(r.status).toBe(200)
  })
})
