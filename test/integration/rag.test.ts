// Projects and documents with real processes: a pool (embedded database) and workers with the
// tiny generated embedder. Proves done-criteria 1, 2 and 4 of issue 15: every type indexed with
// vectors computed on a worker (never in the pool), search finds the right chunk; a pool SIGKILLed
// mid-ingest resumes from the stored bytes without duplicates; no embedder → waits, then proceeds;
// cross-project reads 404; oversize 413 with nothing kept; a corrupt PDF fails with its reason.
import { afterAll, describe, expect, test } from "bun:test"
import { existsSync, readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { pdfDocument, sampleDocuments, textDocument } from "../fixtures/documents.ts"
import { tinyEmbedderDir } from "../support/fixtures.ts"
import { generateKeyPair, issueLicense, toHex } from "../../core/license/index.ts"
import { cleanupAll, startPool, startWorker, tempDir, type PoolProc } from "../support/proc.ts"

const TOKEN = "rag-worker-token-0123456789"
const ADMIN = { "x-cellule-user": "admin@test.local" }
const POOL_ENV = { CELLULE_WORKER_TOKEN: TOKEN, CELLULE_TRUSTED_NETWORKS: "127.0.0.1/32" }

afterAll(cleanupAll)

type Doc = {
  id: string
  indexed_status: string
  reason: string | null
  chunks_count: number
  embedded_by: string[]
  mime_type: string
  progress: { chunks_embedded: number; chunks_total: number }
}

async function api<T>(pool: PoolProc, path: string, init: RequestInit & { headers?: Record<string, string> } = {}) {
  const res = await fetch(`${pool.url}${path}`, { ...init, headers: { ...ADMIN, ...init.headers } })
  const text = await res.text()
  return { status: res.status, body: (text ? JSON.parse(text) : null) as T }
}

async function createProject(pool: PoolProc, name: string): Promise<string> {
  const r = await api<{ id: string }>(pool, "/v1/projects", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name }),
  })
  expect(r.status).toBe(201)
  return r.body.id
}

async function upload(
  pool: PoolProc,
  pid: string,
  bytes: Uint8Array,
  name: string,
  headers: Record<string, string> = {},
) {
  const form = new FormData()
  form.append("file", new Blob([bytes as BlobPart]), name)
  form.append("title", name)
  return api<{ id: string; content_hash: string; indexed_status: string; error?: string }>(
    pool,
    `/v1/projects/${pid}/documents`,
    { method: "POST", body: form, headers },
  )
}

async function doc(pool: PoolProc, pid: string, id: string): Promise<Doc> {
  return (await api<Doc>(pool, `/v1/projects/${pid}/documents/${id}`)).body
}

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 90_000): Promise<T> {
  const end = Date.now() + timeoutMs
  for (;;) {
    const v = await fn().catch(() => undefined)
    if (v) return v
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await Bun.sleep(100)
  }
}

const mapsOf = (pid: number) => readFileSync(`/proc/${pid}/maps`, "utf8")

describe("documents end to end", () => {
  test("one file of each type → done with chunks embedded by the worker, never the pool; search finds the right chunk first", async () => {
    const pool = await startPool({ env: POOL_ENV })
    const worker = await startWorker({ poolUrl: pool.url, token: TOKEN, embedder: await tinyEmbedderDir() })
    // The per-worker list is the admin snapshot; /v1/workers is the public summary on main.
    const { body: live } = await api<{ workers: { id: string }[] }>(pool, "/v1/admin/workers")
    const workerId = live.workers[0].id
    const pid = await createProject(pool, "Cabinet")
    const ids: Record<string, string> = {}
    for (const [name, bytes] of sampleDocuments()) {
      const r = await upload(pool, pid, bytes, `${name}-file`)
      expect(r.status).toBe(202)
      expect(r.body.indexed_status).toBe("pending")
      ids[name] = r.body.id
    }
    for (const [name, , , mime] of sampleDocuments()) {
      const d = await until(`${name} indexed`, async () => {
        const d = await doc(pool, pid, ids[name])
        return d.indexed_status !== "pending" && d.indexed_status !== "processing" && d
      })
      expect([name, d.indexed_status, d.reason, d.mime_type]).toEqual([name, "done", null, mime])
      expect(d.chunks_count).toBeGreaterThan(0)
      expect(d.embedded_by).toEqual([workerId])
    }
    for (const [name, , question] of sampleDocuments()) {
      const r = await api<{ mode: string; data: { document_id: string; chunk: string; page: number | null }[] }>(
        pool,
        `/v1/projects/${pid}/search`,
        {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ query: question, top_k: 3 }),
        },
      )
      expect(r.status).toBe(200)
      expect(r.body.mode).toBe("hybrid")
      expect([name, r.body.data[0].document_id]).toEqual([name, ids[name]])
    }
    // The embedding runtime is mapped in the worker's process and never in the pool's.
    expect(mapsOf(worker.proc.pid)).toContain("onnxruntime")
    expect(mapsOf(pool.proc.pid)).not.toContain("onnxruntime")
    expect(pool.stderr()).toContain("cellule.document_ingest")
    // The original bytes come back as uploaded.
    const [, pdfBytes] = sampleDocuments().find(([n]) => n === "pdf")!
    const content = await fetch(`${pool.url}/v1/projects/${pid}/documents/${ids.pdf}/content`, { headers: ADMIN })
    expect(Buffer.from(await content.arrayBuffer()).equals(Buffer.from(pdfBytes))).toBe(true)
  }, 240_000)

  test("SIGKILL of the pool mid-ingest → restart resumes from the stored bytes → done, no duplicate chunk", async () => {
    const dataDir = tempDir()
    const env = { ...POOL_ENV, CELLULE_RAG_CHUNK_TOKENS: "48", CELLULE_RAG_CHUNK_OVERLAP: "8" }
    let pool = await startPool({ dataDir, env })
    const embedder = await tinyEmbedderDir()
    await startWorker({ poolUrl: pool.url, token: TOKEN, embedder })
    const pid = await createProject(pool, "Crash")
    const paragraphs = Array.from(
      { length: 700 },
      (_, i) => `Paragraph ${i}: the server answers the question about document ${i} in the network.`,
    )
    const { body } = await upload(pool, pid, textDocument(paragraphs), "big.txt")
    await until("embedding under way", async () => {
      const d = await doc(pool, pid, body.id)
      return d.indexed_status === "processing" && d.progress.chunks_embedded > 0
    })
    await pool.kill("SIGKILL")
    pool = await startPool({ dataDir, env })
    await startWorker({ poolUrl: pool.url, token: TOKEN, embedder })
    const d = await until(
      "resumed ingest done",
      async () => {
        const d = await doc(pool, pid, body.id)
        return d.indexed_status === "done" && d
      },
      180_000,
    )
    expect(pool.stderr()).toContain("resumes after a restart of this pool")
    expect(d.chunks_count).toBe(d.progress.chunks_total)
    const r = await api<{ data: { chunk_index: number }[] }>(pool, `/v1/projects/${pid}/search`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query: "paragraph 1234 server", top_k: 100 }),
    })
    const seen = r.body.data.map((h) => h.chunk_index)
    expect(new Set(seen).size).toBe(seen.length)
  }, 300_000)

  test("no embedder: pending(waiting_for_embedder) while none is live, then done once a worker with one joins", async () => {
    const pool = await startPool({ env: POOL_ENV })
    const pid = await createProject(pool, "Wait")
    const { body } = await upload(pool, pid, textDocument(["The cat waits for the embedder."]), "wait.txt")
    const waiting = await until("waiting", async () => {
      const d = await doc(pool, pid, body.id)
      return d.reason === "waiting_for_embedder" && d
    })
    expect(waiting.indexed_status).toBe("pending")
    await Bun.sleep(1500)
    expect((await doc(pool, pid, body.id)).indexed_status).toBe("pending")
    await startWorker({ poolUrl: pool.url, token: TOKEN, embedder: await tinyEmbedderDir() })
    const d = await until("done after the embedder joined", async () => {
      const d = await doc(pool, pid, body.id)
      return d.indexed_status === "done" && d
    })
    expect(d.chunks_count).toBe(1)
  }, 240_000)

  test("cross-project reads 404 (key and scoped admin); oversize 413 with nothing stored; a corrupt PDF fails with its reason; without rag_documents ingest is 403, reads and search stay open", async () => {
    const licenceKey = await generateKeyPair()
    const pool = await startPool({
      env: {
        ...POOL_ENV,
        CELLULE_RAG_MAX_DOCUMENT_BYTES: "4096",
        CELLULE_LICENSE_PUBKEY: toHex(licenceKey.publicKey),
      },
    })
    const a = await createProject(pool, "Client A")
    const b = await createProject(pool, "Client B")
    const key = await api<{ key: string }>(pool, "/v1/admin/keys", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "client-a", project: a }),
    })
    expect(key.status).toBe(201)
    const asA = { authorization: `Bearer ${key.body.key}` }
    const secret = await upload(pool, b, textDocument(["Client B's secret."]), "b.txt")
    expect(secret.status).toBe(202)
    for (const path of [
      `/v1/projects/${b}`,
      `/v1/projects/${b}/documents`,
      `/v1/projects/${b}/documents/${secret.body.id}`,
      `/v1/projects/${b}/documents/${secret.body.id}/content`,
      `/v1/projects/${a}/documents/${secret.body.id}`,
    ]) {
      const r = await fetch(`${pool.url}${path}`, { headers: asA })
      expect([path, r.status]).toEqual([path, 404])
    }
    const list = await fetch(`${pool.url}/v1/projects`, { headers: asA })
    expect(((await list.json()) as { data: { id: string }[] }).data.map((p) => p.id)).toEqual([a])
    expect((await fetch(`${pool.url}/v1/projects/${a}/documents`, { headers: asA })).status).toBe(200)

    // An administrator scoped to project A: B is not found, in the API and on the Projects page.
    const scopedAdmin = await api<{ id: number; projects: string[] | null }>(pool, "/v1/admin/admins", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: "scoped@test.local", password: "scoped-password-123", projects: [a] }),
    })
    expect(scopedAdmin.status).toBe(201)
    expect(scopedAdmin.body.projects).toEqual([a])
    const asScoped = { "x-cellule-user": "scoped@test.local" }
    for (const path of [
      `/v1/projects/${b}`,
      `/v1/projects/${b}/documents`,
      `/v1/projects/${b}/documents/${secret.body.id}`,
      `/v1/projects/${b}/documents/${secret.body.id}/content`,
      `/v1/projects/${a}/documents/${secret.body.id}`,
      `/projects/${b}`,
      `/projects/${b}/documents/live`,
    ]) {
      const r = await fetch(`${pool.url}${path}`, { headers: asScoped })
      expect([path, r.status]).toEqual([path, 404])
    }
    const scopedSearch = await fetch(`${pool.url}/v1/projects/${b}/search`, {
      method: "POST",
      headers: { ...asScoped, "content-type": "application/json" },
      body: JSON.stringify({ query: "secret" }),
    })
    expect(scopedSearch.status).toBe(404)
    const scopedList = await fetch(`${pool.url}/v1/projects`, { headers: asScoped })
    expect(((await scopedList.json()) as { data: { id: string }[] }).data.map((p) => p.id)).toEqual([a])
    expect((await fetch(`${pool.url}/v1/projects/${a}/documents`, { headers: asScoped })).status).toBe(200)
    const page = await (await fetch(`${pool.url}/projects`, { headers: asScoped })).text()
    expect(page).toContain(a)
    expect(page).not.toContain(b)
    // It cannot delete B, create a project, nor widen its own scope; the unscoped admin can change it.
    expect((await fetch(`${pool.url}/v1/projects/${b}`, { method: "DELETE", headers: asScoped })).status).toBe(404)
    const create = await fetch(`${pool.url}/v1/projects`, {
      method: "POST",
      headers: { ...asScoped, "content-type": "application/json" },
      body: JSON.stringify({ name: "mine" }),
    })
    expect(create.status).toBe(403)
    const widen = (headers: Record<string, string>, projects: string[] | null) =>
      fetch(`${pool.url}/v1/admin/admins/${scopedAdmin.body.id}/projects`, {
        method: "PUT",
        headers: { ...headers, "content-type": "application/json" },
        body: JSON.stringify({ projects }),
      })
    expect((await widen(asScoped, null)).status).toBe(403)
    expect((await widen(ADMIN, [a, b])).status).toBe(200)
    expect((await fetch(`${pool.url}/v1/projects/${b}`, { headers: asScoped })).status).toBe(200)
    expect((await widen(ADMIN, [a])).status).toBe(200)
    expect((await fetch(`${pool.url}/v1/projects/${b}`, { headers: asScoped })).status).toBe(404)

    // The cluster is not its to run: settings, federation, workers, audit, licence answer 403 (JSON on the
    // API, a readable page on the dashboard), the overview sends it to its projects, its keys stay open.
    for (const [method, path] of [
      ["GET", "/v1/admin/settings"],
      ["PUT", "/v1/admin/settings/rag.top_k"],
      ["GET", "/v1/admin/audit"],
      ["GET", "/v1/admin/workers"],
      ["GET", "/v1/admin/admins"],
      ["GET", "/v1/admin/license"],
      ["GET", "/v1/cluster/vip-self"],
    ] as const) {
      const r = await fetch(`${pool.url}${path}`, {
        method,
        headers: { ...asScoped, "content-type": "application/json" },
        body: method === "GET" ? undefined : JSON.stringify({ value: 3 }),
      })
      expect([path, r.status, ((await r.json()) as { error: string }).error]).toEqual([
        path,
        403,
        "admin_scope_forbidden",
      ])
    }
    for (const path of ["/settings", "/federation", "/workers", "/audit", "/license"]) {
      const r = await fetch(`${pool.url}${path}`, { headers: { ...asScoped, cookie: "cellule_lang=fr" } })
      expect([path, r.status, r.headers.get("content-type")]).toEqual([path, 403, "text/html; charset=utf-8"])
      expect(await r.text()).toContain("Réservé aux administrateurs du cluster")
    }
    const home = await fetch(`${pool.url}/`, { headers: asScoped, redirect: "manual" })
    expect([home.status, home.headers.get("location")]).toEqual([303, "/projects"])
    expect(page).not.toContain('href="/settings"')
    expect((await fetch(`${pool.url}/v1/admin/keys`, { headers: asScoped })).status).toBe(200)
    expect((await fetch(`${pool.url}/v1/admin/settings`, { headers: ADMIN })).status).toBe(200)

    const files = () =>
      existsSync(join(pool.dataDir, "documents"))
        ? readdirSync(join(pool.dataDir, "documents"), { recursive: true })
        : []
    const before = files().length
    const big = await upload(pool, a, new Uint8Array(5000).fill(97), "big.txt")
    expect([big.status, big.body.error]).toEqual([413, "document_too_large"])
    expect(files().length).toBe(before)
    expect((await api<{ data: unknown[] }>(pool, `/v1/projects/${a}/documents`)).body.data).toHaveLength(0)

    const corrupt = await upload(pool, a, pdfDocument(["hello"]).subarray(0, 50), "broken.pdf")
    expect(corrupt.status).toBe(202)
    const d = await until("corrupt pdf failed", async () => {
      const d = await doc(pool, a, corrupt.body.id)
      return d.indexed_status === "failed" && d
    })
    expect(d.reason).toBe("corrupt_pdf")

    // A licence without rag_documents: ingest answers 403; reading and searching stay open.
    const { token } = await issueLicense(
      { clientId: "cluster-rag-gate", tier: "cabinet", features: ["balancer"] },
      licenceKey.privateKey,
    )
    const installed = await api<{ status: string }>(pool, "/v1/admin/license/upload", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ token }),
    })
    expect([installed.status, installed.body.status]).toEqual([200, "active"])
    const gated = await upload(pool, b, textDocument(["A new file."]), "new.txt")
    expect([gated.status, gated.body.error]).toEqual([403, "feature_not_licensed"])
    expect((await api<{ data: unknown[] }>(pool, `/v1/projects/${b}/documents`)).body.data).toHaveLength(1)
    const content = await fetch(`${pool.url}/v1/projects/${b}/documents/${secret.body.id}/content`, { headers: ADMIN })
    expect([content.status, await content.text()]).toEqual([200, "Client B's secret.\n"])
    const open = await api<{ data: unknown[] }>(pool, `/v1/projects/${b}/search`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query: "secret" }),
    })
    expect(open.status).toBe(200)
  }, 240_000)
})
