// Grounded chat and memories with real processes: a worker serving the tiny LLM and the tiny
// embedder; the answer cites the project's chunk, streamed or not, and a key of another project
// cannot ground on it (404).
import { afterAll, beforeAll, expect, test } from "bun:test"
import { textDocument } from "../fixtures/documents.ts"
import { tinyEmbedderDir, tinyLlamaPath } from "../support/fixtures.ts"
import { cleanupAll, startPool, startWorker, type PoolProc } from "../support/proc.ts"

const TOKEN = "rag-chat-token-0123456789"
const ADMIN = { "x-cellule-user": "admin@test.local", "content-type": "application/json" }
let pool: PoolProc
let pid: string
let other: string
let docId: string
let key: string
let otherKey: string

const post = (path: string, body: unknown, headers: Record<string, string> = ADMIN) =>
  fetch(`${pool.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  })

beforeAll(async () => {
  pool = await startPool({ env: { CELLULE_WORKER_TOKEN: TOKEN, CELLULE_TRUSTED_NETWORKS: "127.0.0.1/32" } })
  await startWorker({
    poolUrl: pool.url,
    token: TOKEN,
    models: [`tiny=${await tinyLlamaPath()}`],
    embedder: await tinyEmbedderDir(),
  })
  pid = ((await (await post("/v1/projects", { name: "Chat" })).json()) as { id: string }).id
  other = ((await (await post("/v1/projects", { name: "Other" })).json()) as { id: string }).id
  key = ((await (await post("/v1/admin/keys", { name: "chat", project: pid })).json()) as { key: string }).key
  otherKey = ((await (await post("/v1/admin/keys", { name: "other", project: other })).json()) as { key: string }).key
  const form = new FormData()
  form.append(
    "file",
    new Blob([textDocument(["The sun is far.", "The cat sleeps on the server in the cluster."]) as BlobPart]),
    "cat.txt",
  )
  const up = await fetch(`${pool.url}/v1/projects/${pid}/documents`, {
    method: "POST",
    body: form,
    headers: { authorization: `Bearer ${key}` },
  })
  expect(up.status).toBe(202)
  docId = ((await up.json()) as { id: string }).id
  for (let i = 0; i < 600; i++) {
    const d = (await (await fetch(`${pool.url}/v1/projects/${pid}/documents/${docId}`, { headers: ADMIN })).json()) as {
      indexed_status: string
    }
    if (d.indexed_status === "done") break
    await Bun.sleep(100)
  }
}, 240_000)
afterAll(cleanupAll)

test("memories: added, listed, scoped to the key's project, deleted", async () => {
  const auth = { authorization: `Bearer ${key}` }
  const m = await post(`/v1/projects/${pid}/memories`, { text: "The client prefers answers in french." }, auth)
  expect(m.status).toBe(201)
  const { id } = (await m.json()) as { id: string }
  const list = (await (await fetch(`${pool.url}/v1/projects/${pid}/memories`, { headers: auth })).json()) as {
    data: { id: string }[]
  }
  expect(list.data.map((x) => x.id)).toContain(id)
  expect((await fetch(`${pool.url}/v1/projects/${other}/memories`, { headers: auth })).status).toBe(404)
  const del = await fetch(`${pool.url}/v1/projects/${pid}/memories/${id}`, { method: "DELETE", headers: auth })
  expect(del.status).toBe(204)
}, 60_000)

test("a chat with cellule.project answers with citations of the project's chunk", async () => {
  const res = await post(
    "/v1/chat/completions",
    {
      model: "tiny",
      messages: [{ role: "user", content: "where does the cat sleep" }],
      max_tokens: 8,
      temperature: 0,
      cellule: { project: pid },
    },
    { authorization: `Bearer ${key}` },
  )
  expect(res.status).toBe(200)
  const body = (await res.json()) as { cellule: { citations: { document_id: string; chunk: number; score: number }[] } }
  expect(body.cellule.citations[0].document_id).toBe(docId)
  expect(body.cellule.citations[0].score).toBeGreaterThan(0)
}, 120_000)

test("streamed, with X-Cellule-Project: the final chunk carries the citations", async () => {
  const res = await post(
    "/v1/chat/completions",
    {
      model: "tiny",
      messages: [{ role: "user", content: "where does the cat sleep" }],
      max_tokens: 8,
      temperature: 0,
      stream: true,
    },
    { authorization: `Bearer ${key}`, "x-cellule-project": pid },
  )
  expect(res.status).toBe(200)
  const events = (await res.text())
    .split("\n")
    .filter((l) => l.startsWith("data: {"))
    .map((l) => JSON.parse(l.slice(6)))
  const final = events.find((e) => e.choices?.[0]?.finish_reason)
  expect(final.cellule.citations[0].document_id).toBe(docId)
}, 120_000)

test("a key of another project cannot ground on this one: 404", async () => {
  const res = await post(
    "/v1/chat/completions",
    { model: "tiny", messages: [{ role: "user", content: "cat" }], max_tokens: 4, cellule: { project: pid } },
    { authorization: `Bearer ${otherKey}` },
  )
  expect(res.status).toBe(404)
  expect(((await res.json()) as { error: string }).error).toBe("project_not_found")
}, 60_000)
