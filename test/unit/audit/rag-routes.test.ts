// The project and document families through the real /v1/projects routes, in-process: project
// changes and document uploads, reads, searches and deletions write their rows with the caller as
// actor (the admin's e-mail, or the API key's id), a key reaching into another project is recorded as
// denied, the search query itself never reaches the log, and at the basic grade reads and searches
// are not recorded while administration still is.
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
import { poolServices, type PoolServices } from "../../../core/pool/services.ts"
import { createRag } from "../../../core/rag/index.ts"
import { testDatabase } from "../../support/db.ts"
import { cleanupAll, tempDir } from "../../support/proc.ts"
import { setProfile } from "./_support.ts"

const EMAIL = "associate@cabinet.example"
const clock = new ManualClock(Date.UTC(2026, 8, 1))
let db: Database
let s: PoolServices
let app: ReturnType<typeof buildApp>
let cookie: string
let csrf: string
let keys: ApiKeys

afterAll(async () => {
  await s?.rag?.stop()
  await cleanupAll()
})
beforeAll(async () => {
  db = await testDatabase()
  await setProfile(db.sql, "strict", 120)
  const config = loadConfig("pool", {}, { CELLULE_DATA_DIR: tempDir("cellule-audit-rag-") })
  keys = new ApiKeys(db.sql, clock)
  const anonymous = new AnonymousAccess(db.sql, clock, undefined, async () => {})
  const bare = poolServices({ config, db, clock, apiKeys: keys, anonymous })
  // no worker: search falls back to full text, which is all an audit row needs
  const rag = createRag(db.sql, clock, config, { scheduler: bare.scheduler })
  s = poolServices({ config, db, clock, apiKeys: keys, anonymous, scheduler: bare.scheduler, rag })
  app = buildApp(s)
  const a = await createAdmin(db.sql, EMAIL, "a long enough password")
  const session = await createSession(db.sql, a.id, clock)
  cookie = `${SESSION_COOKIE}=${session.token}`
  csrf = session.csrf
}, 120_000)

type Auth = { admin: true } | { key: string }
const call = (auth: Auth, method: string, path: string, body?: BodyInit, type?: string) =>
  handle(
    app,
    new Request(`http://localhost${path}`, {
      method,
      headers: {
        ...("key" in auth ? { authorization: `Bearer ${auth.key}` } : { cookie, [CSRF_HEADER]: csrf }),
        ...(type ? { "content-type": type } : {}),
      },
      body,
    }),
  )
const json = (auth: Auth, method: string, path: string, body: unknown) =>
  call(auth, method, path, JSON.stringify(body), "application/json")
const ADMIN: Auth = { admin: true }

async function rows(action: string): Promise<AuditRow[]> {
  const r = await call(ADMIN, "GET", `/v1/admin/audit?action=${action}&limit=50`)
  expect(r.status).toBe(200)
  return ((await r.json()) as { data: AuditRow[] }).data
}
const last = async (action: string) => (await rows(action))[0]

async function upload(auth: Auth, project: string, text: string, title: string) {
  const form = new FormData()
  form.append("file", new File([text], `${title}.txt`, { type: "text/plain" }))
  form.append("title", title)
  const r = await call(auth, "POST", `/v1/projects/${project}/documents`, form)
  expect(r.status).toBe(202)
  return ((await r.json()) as { id: string }).id
}

describe("projects and documents write their rows", () => {
  let project: string
  let other: string
  let key: { key: string; id: string }
  let doc: string

  test("project creation, renaming and a refused creation by a key", async () => {
    const r = await json(ADMIN, "POST", "/v1/projects", { name: "Dossier Martin" })
    expect(r.status).toBe(201)
    project = ((await r.json()) as { id: string }).id
    expect(await last("project.create")).toMatchObject({
      actor: { kind: "admin", id: EMAIL },
      outcome: "success",
      project,
      target: `project:${project}`,
      details: { name: "Dossier Martin" },
    })
    other = ((await (await json(ADMIN, "POST", "/v1/projects", { name: "Dossier Durand" })).json()) as { id: string })
      .id
    const created = await keys.create({ name: "martin desk", project })
    key = { key: created.key, id: created.record.id }

    expect((await json({ key: key.key }, "POST", "/v1/projects", { name: "by a key" })).status).toBe(403)
    expect(await last("project.create")).toMatchObject({
      actor: { kind: "api_key", id: key.id },
      outcome: "denied",
      details: { error: "admin_required" },
    })
    expect((await json(ADMIN, "PATCH", `/v1/projects/${project}`, { description: "succession" })).status).toBe(200)
    expect(await last("project.update")).toMatchObject({ actor: { id: EMAIL }, outcome: "success", project })
  })

  test("upload, read and search by the project's key; the query text is not kept", async () => {
    doc = await upload({ key: key.key }, project, "Le bail commercial du client Martin expire en mars.", "bail")
    expect(await last("document.upload")).toMatchObject({
      actor: { kind: "api_key", id: key.id },
      outcome: "success",
      project,
      target: `document:${doc}`,
      details: { title: "bail", bytes: 51 },
    })
    expect((await call({ key: key.key }, "GET", `/v1/projects/${project}/documents/${doc}/content`)).status).toBe(200)
    expect(await last("document.read")).toMatchObject({
      actor: { kind: "api_key", id: key.id },
      outcome: "success",
      target: `document:${doc}`,
    })
    const query = "quand expire le bail commercial"
    expect((await json({ key: key.key }, "POST", `/v1/projects/${project}/search`, { query })).status).toBe(200)
    const search = await last("document.search")
    expect(search).toMatchObject({ actor: { id: key.id }, outcome: "success", project, details: { top_k: 5 } })
    expect(search.details.query_chars).toBe(query.length)
    expect(JSON.stringify(await rows("document.search"))).not.toContain("expire")
  })

  test("a key reaching into another project is recorded as a refusal", async () => {
    const r = await call({ key: key.key }, "GET", `/v1/projects/${other}/documents/${doc}/content`)
    expect(r.status).toBe(404)
    expect(await last("document.read")).toMatchObject({
      actor: { kind: "api_key", id: key.id },
      outcome: "failure",
      project: other,
      details: { error: "project_not_found" },
    })
  })

  test("deletion of a document and of the project, by the admin", async () => {
    expect((await call(ADMIN, "DELETE", `/v1/projects/${project}/documents/${doc}`)).status).toBe(204)
    expect(await last("document.delete")).toMatchObject({ actor: { id: EMAIL }, outcome: "success", project })
    expect((await call(ADMIN, "DELETE", `/v1/projects/${project}`)).status).toBe(204)
    expect(await last("project.delete")).toMatchObject({ actor: { id: EMAIL }, outcome: "success", project })
  })

  test("at the basic grade reads and searches are not recorded; administration still is", async () => {
    await setProfile(db.sql, "basic", 120)
    s.audit.invalidateGrade()
    const before = { reads: (await rows("document.read")).length, searches: (await rows("document.search")).length }
    const r = await json(ADMIN, "POST", "/v1/projects", { name: "Dossier Petit" })
    const p = ((await r.json()) as { id: string }).id
    const d = await upload(ADMIN, p, "Acte de vente.", "acte")
    expect((await call(ADMIN, "GET", `/v1/projects/${p}/documents/${d}/content`)).status).toBe(200)
    expect((await json(ADMIN, "POST", `/v1/projects/${p}/search`, { query: "vente" })).status).toBe(200)
    expect((await rows("document.read")).length).toBe(before.reads)
    expect((await rows("document.search")).length).toBe(before.searches)
    expect(await last("document.upload")).toMatchObject({ project: p, target: `document:${d}` })
    expect(await last("project.create")).toMatchObject({ project: p })
  })
})

describe("the iso27001 grade", () => {
  test("records every API request's metadata, never its query string or body; health checks are not requests", async () => {
    await setProfile(db.sql, "iso27001", 120)
    s.audit.invalidateGrade()
    const p = ((await (await json(ADMIN, "POST", "/v1/projects", { name: "Dossier ISO" })).json()) as { id: string }).id
    const { key } = await keys.create({ name: "iso desk", project: p })
    const created = await keys.find(key)
    expect((await call({ key }, "GET", `/v1/projects?client=Martin`)).status).toBe(200)
    expect((await call({ key: "sk-cel-not-a-key" }, "GET", "/v1/projects")).status).toBe(401)
    expect((await call(ADMIN, "GET", "/v1/status")).status).toBe(200)
    // the rows are written after the answer: wait for the refused call's
    const seen = async () => (await rows("api.request")).filter((r) => r.target === "GET /v1/projects")
    let requests = await seen()
    for (let i = 0; i < 100 && requests.length < 2; i++) {
      await Bun.sleep(20)
      requests = await seen()
    }
    expect(requests.map((r) => [r.actor, r.outcome, r.details.status])).toEqual([
      [{ kind: "system", id: "anonymous" }, "denied", 401],
      [{ kind: "api_key", id: created!.id }, "success", 200],
    ])
    expect(JSON.stringify(await rows("api.request"))).not.toContain("Martin")
    expect((await rows("api.request")).some((r) => r.target === "GET /v1/status")).toBe(false)
    // the admin's own calls are requests too, under the admin's name
    expect((await rows("api.request")).some((r) => r.target === "POST /v1/projects" && r.actor.id === EMAIL)).toBe(true)
  })
})
