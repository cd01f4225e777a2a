// The Projects page in-process (issue 15): administrators only — without a session every page, fragment
// and form goes to the sign-in page and changes nothing; a form without its CSRF token or from a foreign
// Origin is refused; the creation form answers its validation error next to the field, then creates.
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { cleanupAll } from "../support/proc.ts"
import { shellApp, FORM_STEPS, type Client } from "../support/shell.ts"

afterAll(cleanupAll)

let s: Awaited<ReturnType<typeof shellApp>>
let admin: Client
let csrf: string

beforeAll(async () => {
  s = await shellApp({ rag: true })
  admin = s.client()
  for (const [step, form] of FORM_STEPS) await admin.req(`/setup/step/${step}`, { form })
  await admin.req("/setup/step/recap", { form: { go: "next" } })
  csrf = await admin.csrf()
})

const names = async () => (await s.ctx.rag!.projects.list({ kind: "admin", projects: null })).map((p) => p.name)

describe("Projects page", () => {
  test("without a session: pages and fragment redirect to sign-in, forms change nothing", async () => {
    const pid = (await s.ctx.rag!.projects.create({ name: "Existing" })).id
    const anon = s.client()
    for (const path of ["/projects", `/projects/${pid}`]) {
      const r = await anon.req(path, { headers: { accept: "text/html" } })
      expect([path, r.status]).toEqual([path, 303])
      expect(r.headers.get("location")).toStartWith("/login?next=")
    }
    const live = await anon.req(`/projects/${pid}/documents/live`)
    expect(live.status).toBe(401)
    expect(live.headers.get("hx-redirect")).toBe("/login")
    const post = await anon.req("/projects", { form: { name: "Anonymous" } })
    expect(post.status).toBe(303)
    const del = await anon.req(`/projects/${pid}/delete`, { form: {} })
    expect(del.status).toBe(303)
    expect(await names()).toContain("Existing")
    expect(await names()).not.toContain("Anonymous")
  })

  test("a form without the CSRF token, or from a foreign Origin, is refused", async () => {
    const noToken = await admin.req("/projects", { form: { name: "No token" } })
    expect(noToken.status).toBe(403)
    expect(((await noToken.json()) as { error: string }).error).toBe("csrf_invalid")
    const foreign = await admin.req("/projects", {
      form: { name: "Foreign", _csrf: csrf },
      headers: { origin: "http://evil.example" },
    })
    expect(foreign.status).toBe(403)
    expect(((await foreign.json()) as { error: string }).error).toBe("origin_forbidden")
    const pid = (await s.ctx.rag!.projects.list({ kind: "admin", projects: null }))[0].id
    const upload = new FormData()
    upload.set("file", new Blob(["forged"]), "forged.txt")
    const forgedUpload = await admin.req(`/v1/projects/${pid}/documents`, {
      form: upload,
      headers: { origin: "http://evil.example" },
    })
    expect(forgedUpload.status).toBe(403)
    const forgedDelete = await admin.req(`/projects/${pid}/delete`, {
      form: { _csrf: csrf },
      headers: { "sec-fetch-site": "cross-site" },
    })
    expect(forgedDelete.status).toBe(403)
    expect(await names()).not.toContain("No token")
    expect(await names()).not.toContain("Foreign")
    expect(await names()).toContain("Existing")
  })

  test("validation error next to the field, then creation redirects to the project's page", async () => {
    const bad = await admin.req("/projects", { form: { name: "  ", _csrf: csrf }, headers: { accept: "text/html" } })
    expect(bad.status).toBe(400)
    const page = await bad.text()
    expect(page).toMatch(/id="project-name"[^>]*>\s*<div class="error" id="err-name"/)
    expect(page).toContain("Give the project a name.")
    const ok = await admin.req("/projects", { form: { name: "Cabinet Martin", description: "<b>x</b>", _csrf: csrf } })
    expect(ok.status).toBe(303)
    const loc = ok.headers.get("location")!
    expect(loc).toMatch(/^\/projects\/prj_/)
    const detail = await (await admin.req(loc, { headers: { accept: "text/html" } })).text()
    expect(detail).toContain("Cabinet Martin")
    expect(detail).toContain("&lt;b&gt;x&lt;/b&gt;")
    expect(detail).toContain('src="/assets/projects.js"')
    expect(detail).not.toMatch(/<script(?![^>]*\bsrc=)/)
    const list = await (await admin.req("/projects", { headers: { accept: "text/html" } })).text()
    expect(list).toMatch(/Cabinet Martin<\/a><\/td><td>&lt;b&gt;x&lt;\/b&gt;<\/td><td class="count">0</)
    const js = await admin.req("/assets/projects.js")
    expect(js.status).toBe(200)
    expect(await js.text()).toContain("upload.addEventListener")
  })
})
