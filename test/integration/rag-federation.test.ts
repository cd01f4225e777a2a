// Documents across three real federated pools (issue 15, done-criterion 3): a document uploaded on A
// and indexed by A's worker reaches B and C already done (chunks and vectors replicated in several
// signed envelopes, no re-embedding, origin recorded) and C's search finds it; deleted on B, a signed
// tombstone removes rows, chunks and stored bytes on every pool, and a late copy of the document's
// envelopes is refused on apply. A project erased on C goes the same way. A grounded chat asked of a
// pool with no worker, and answered by its bonded peer, still carries the citations.
import { afterAll, describe, expect, test } from "bun:test"
import { readdirSync } from "node:fs"
import { join } from "node:path"
import postgres from "postgres"
import { runningEmbedded } from "../../core/db/embedded.ts"
import { documentChunks, documentReplica } from "../../core/federation/kinds/document.ts"
import type { ReplicatedKind } from "../../core/federation/kinds/index.ts"
import { projectCreation } from "../../core/federation/kinds/project.ts"
import { textDocument } from "../fixtures/documents.ts"
import { admin, bondAll, startFedPool, type FedPool } from "../support/fed-pools.ts"
import { tinyEmbedderDir, tinyLlamaPath } from "../support/fixtures.ts"
import { cleanupAll, startWorker, TEST_ADMIN } from "../support/proc.ts"
import { until } from "../support/until.ts"

const TOKEN = "rag-fed-worker-token-0123456789"

afterAll(cleanupAll)

/** Every file under a pool's documents store (the original bytes, named by hash). */
function storedFiles(pool: FedPool): string[] {
  try {
    return readdirSync(join(pool.dataDir, "documents"), { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => e.name)
  } catch {
    return []
  }
}

async function upload(pool: FedPool, pid: string, bytes: Uint8Array, name: string) {
  const form = new FormData()
  form.append("file", new Blob([bytes as BlobPart]), name)
  form.append("title", name)
  const res = await fetch(`${pool.url}/v1/projects/${pid}/documents`, {
    method: "POST",
    body: form,
    headers: { "x-cellule-user": TEST_ADMIN.email },
  })
  expect(res.status).toBe(202)
  return (await res.json()) as { id: string; content_hash: string }
}

const search = (pool: FedPool, pid: string, query: string) =>
  admin<{ mode: string; data: { document_id: string; chunk: string }[] }>(pool, "POST", `/v1/projects/${pid}/search`, {
    query,
    top_k: 3,
  })

describe("documents across trusted pools", () => {
  test("upload on A → search on C; delete on B → nothing left anywhere; a late copy is refused", async () => {
    // Small chunks so one document needs several document_chunks envelopes.
    const env = { CELLULE_WORKER_TOKEN: TOKEN, CELLULE_RAG_CHUNK_TOKENS: "32", CELLULE_RAG_CHUNK_OVERLAP: "0" }
    const [a, b0, c] = await Promise.all(["rag-a", "rag-b", "rag-c"].map((name) => startFedPool({ name, env })))
    let b = b0
    const pools = [a, b, c]
    await bondAll(pools)
    await startWorker({ poolUrl: a.url, token: TOKEN, embedder: await tinyEmbedderDir() })
    const dbs = pools.map((p) => postgres({ ...runningEmbedded(p.dataDir)!, max: 1 }))
    const [dbA, , dbC] = dbs
    try {
      const { id: pid } = await admin<{ id: string }>(a, "POST", "/v1/projects", { name: "Cabinet" })
      await until(
        "the project on B and C",
        async () => {
          for (const db of dbs) if (!(await db`select 1 from projects where id = ${pid}`).length) return false
          return true
        },
        20_000,
      )

      const filler = Array.from({ length: 50 }, (_, i) => `Paragraph ${i} speaks about the weather and the sea.`)
      const bytes = textDocument([...filler, "The contract 2024-117 binds Dupont and Martin for ten years."])
      // B is down while the document is published: it must catch up when it is back (anti-entropy).
      await dbs[1].end()
      expect(await b.kill("SIGTERM")).toBe(0)
      const up = await upload(a, pid, bytes, "contract.txt")
      const t0 = performance.now()
      const { ms: indexMs } = await until(
        "indexed on A",
        async () => {
          const d = await admin<{ indexed_status: string }>(a, "GET", `/v1/projects/${pid}/documents/${up.id}`)
          return d.indexed_status === "done"
        },
        60_000,
        50,
      )
      const rowOnC = until(
        "the row on C",
        async () => (await dbC`select 1 from documents where id = ${up.id}`).length,
        10_000,
        20,
      )
      const { ms: searchMs } = await until(
        "search on C finds the chunk",
        async () => {
          const r = await search(c, pid, "contract 2024-117 Dupont")
          return r.data[0]?.document_id === up.id && r.data[0].chunk.includes("2024-117")
        },
        5_000,
        50,
      )
      const { ms: rowMs } = await rowOnC
      console.log(
        `document row on C ${rowMs.toFixed(0)} ms after done on A; indexed on A in ${indexMs.toFixed(0)} ms; found by C's search ${searchMs.toFixed(0)} ms after that (${(performance.now() - t0).toFixed(0)} ms after the upload's answer)`,
      )

      // Replicated as done, with the origin and vectors; in several signed envelopes; never re-embedded.
      const [{ n: chunksA }] = await dbA`select count(*)::int as n from chunks where document_id = ${up.id}`
      expect(chunksA).toBeGreaterThan(1)
      const envelopes = await dbA`select seq from federation_log where kind = 'document_chunks'
                                   and payload->>'document_id' = ${up.id}`
      expect(envelopes.length).toBeGreaterThanOrEqual(2)
      const { atom_id: atomA } = await admin<{ atom_id: string }>(a, "GET", "/v1/federation/identity")
      const workersOf = async (db: postgres.Sql) =>
        (await db`select distinct embedded_by from chunks where document_id = ${up.id}`).map((r) => r.embedded_by)
      const embeddedOnA = await workersOf(dbA)
      b = await startFedPool({ name: b.name, port: b.port, dataDir: b.dataDir, env })
      pools[1] = b
      dbs[1] = postgres({ ...runningEmbedded(b.dataDir)!, max: 1 })
      for (const db of [dbs[1], dbC]) {
        await until(
          "every chunk replicated",
          async () => {
            const [{ n }] = await db`select count(*)::int as n from chunks where document_id = ${up.id}`
            return n === chunksA
          },
          10_000,
        )
        const [d] = await db`select indexed_status, origin, attempts from documents where id = ${up.id}`
        expect([d.indexed_status, d.origin, d.attempts]).toEqual(["done", atomA, 0])
        // The vectors are A's worker's: B and C have no worker and embedded nothing.
        expect(await workersOf(db)).toEqual(embeddedOnA)
      }
      expect(storedFiles(a).length).toBe(1)
      // The original bytes on C: prefetched from A over the LAN, or fetched on demand; checked by hash.
      const content = await fetch(`${c.url}/v1/projects/${pid}/documents/${up.id}/content`, {
        headers: { "x-cellule-user": TEST_ADMIN.email },
      })
      expect(content.status).toBe(200)
      expect(Buffer.from(await content.arrayBuffer()).equals(Buffer.from(bytes))).toBe(true)
      expect(storedFiles(c)).toEqual([up.content_hash])
      const old = await dbA`select kind, payload::text as payload, hlc, origin from federation_log
                            where kind in ('document', 'document_chunks') and (payload->>'id' = ${up.id}
                              or payload->>'document_id' = ${up.id}) order by seq`

      // Erasure from B: no row, chunk or stored file left on any pool.
      const del = await fetch(`${b.url}/v1/projects/${pid}/documents/${up.id}`, {
        method: "DELETE",
        headers: { "x-cellule-user": TEST_ADMIN.email },
      })
      expect(del.status).toBeLessThan(300)
      const { ms: eraseMs } = await until(
        "erased everywhere",
        async () => {
          for (const db of dbs) {
            const [{ n }] = await db`select (select count(*) from documents where id = ${up.id})
                                        + (select count(*) from chunks where document_id = ${up.id}) as n`
            if (Number(n) !== 0) return false
          }
          return pools.every((p) => storedFiles(p).length === 0)
        },
        10_000,
      )
      console.log(`erased on every pool (rows, chunks, file) ${eraseMs.toFixed(0)} ms after B's delete`)
      // Nor in any pool's federation log: the envelopes about it keep ids and a hash, never its text.
      const logText = (db: postgres.Sql, like: string) =>
        db`select kind, seq from federation_log where payload::text like ${like}`
      await until(
        "no text of the document in any federation log",
        async () => {
          for (const db of dbs)
            if ((await logText(db, "%Dupont%")).length || (await logText(db, "%weather%")).length) return false
          return true
        },
        10_000,
      )
      for (const db of dbs) {
        const about = await db`select payload::text as payload, redacted_at from federation_log
                               where kind in ('document', 'document_chunks') and (payload->>'id' = ${up.id}
                                 or payload->>'document_id' = ${up.id})`
        expect(about.length).toBe(old.length)
        for (const r of about) {
          expect(r.redacted_at).not.toBeNull()
          expect(Object.keys(JSON.parse(r.payload)).sort()).toEqual(
            expect.arrayContaining(["project_id", "redacted", "sha256"]),
          )
          expect(Object.keys(JSON.parse(r.payload)).length).toBe(4)
        }
      }
      const [tomb] = await dbC`select payload::text as payload from federation_log where kind = 'document_tombstone'`
      expect(JSON.parse(tomb.payload)).toEqual({
        what: "document",
        project_id: pid,
        documents: [{ id: up.id, content_hash: up.content_hash }],
      })

      // A late copy of the document's envelopes (reordered, or replayed by anti-entropy) is refused on apply.
      for (const db of [dbA, dbC])
        for (const e of old) {
          const kind = (e.kind === "document" ? documentReplica : documentChunks) as ReplicatedKind
          const won = await kind.apply(db as any, kind.parse(JSON.parse(e.payload)), { hlc: e.hlc, origin: e.origin })
          expect(won).toBe(false)
        }
      for (const db of dbs) {
        const [{ n }] = await db`select (select count(*) from documents where id = ${up.id})
                                      + (select count(*) from chunks where document_id = ${up.id}) as n`
        expect(Number(n)).toBe(0)
      }

      // A project erased on C: its documents, chunks and files go on every pool, and it is not recreated.
      const second = await upload(a, pid, textDocument(["The lease of the office ends in March."]), "lease.txt")
      await until(
        "second document on C",
        async () => {
          const [d] = await dbC`select indexed_status from documents where id = ${second.id}`
          return d?.indexed_status === "done"
        },
        30_000,
      )
      const delProject = await fetch(`${c.url}/v1/projects/${pid}`, {
        method: "DELETE",
        headers: { "x-cellule-user": TEST_ADMIN.email },
      })
      expect(delProject.status).toBeLessThan(300)
      await until(
        "project erased everywhere",
        async () => {
          for (const db of dbs) {
            const [{ n }] = await db`select (select count(*) from projects where id = ${pid})
                                        + (select count(*) from documents where project_id = ${pid})
                                        + (select count(*) from chunks where project_id = ${pid}) as n`
            if (Number(n) !== 0) return false
          }
          return pools.every((p) => storedFiles(p).length === 0)
        },
        10_000,
      )
      for (const db of dbs) expect((await logText(db, "%lease of the office%")).length).toBe(0)
      const [created] = await dbA`select payload::text as payload, hlc, origin from federation_log
                                  where kind = 'project' and payload->>'id' = ${pid}`
      expect(
        await projectCreation.apply(dbA as any, projectCreation.parse(JSON.parse(created.payload)), created as any),
      ).toBe(false)
      expect((await dbA`select 1 from projects where id = ${pid}`).length).toBe(0)
    } finally {
      await Promise.all(dbs.map((db) => db.end()))
    }
  }, 120_000)
})

describe("grounded chat answered by a peer", () => {
  test("A has no worker: the peer B answers, and the answer (JSON, and the final streamed chunk) carries A's citations", async () => {
    const env = { CELLULE_WORKER_TOKEN: TOKEN }
    const [a, b] = await Promise.all(["cite-a", "cite-b"].map((name) => startFedPool({ name, env })))
    await bondAll([a, b])
    // Only B has a worker: the LLM and the embedder.
    await startWorker({
      poolUrl: b.url,
      token: TOKEN,
      models: [`tiny=${await tinyLlamaPath()}`],
      embedder: await tinyEmbedderDir(),
    })
    const { id: pid } = await admin<{ id: string }>(a, "POST", "/v1/projects", { name: "Cited" })
    await until("the project on B", async () => (await admin(b, "GET", `/v1/projects/${pid}`)).id === pid, 20_000)
    const filler = Array.from({ length: 10 }, (_, i) => `Paragraph ${i} speaks about the weather and the sea.`)
    const up = await upload(
      b,
      pid,
      textDocument([...filler, "The cat sleeps on the server in the cluster."]),
      "cat.txt",
    )
    // Indexed on B, replicated to A (chunks and vectors): A grounds from its own copy.
    await until(
      "the document done on A",
      async () =>
        (await admin<{ indexed_status?: string }>(a, "GET", `/v1/projects/${pid}/documents/${up.id}`))
          .indexed_status === "done",
      60_000,
    )
    const { key } = await admin<{ key: string }>(a, "POST", "/v1/admin/keys", { name: "cite", project: pid })
    const chat = (stream: boolean) =>
      fetch(`${a.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
        body: JSON.stringify({
          model: "tiny",
          messages: [{ role: "user", content: "where does the cat sleep" }],
          max_tokens: 8,
          temperature: 0,
          stream,
          cellule: { project: pid },
        }),
      })
    type Cited = { cellule?: { citations: { document_id: string; title: string; chunk: number; score: number }[] } }

    const res = await chat(false)
    expect(res.status).toBe(200)
    expect(res.headers.get("x-cellule-served-by")).toBe("cite-b")
    const body = (await res.json()) as Cited & { choices: { message: { content: string } }[] }
    expect(body.choices[0].message.content.length).toBeGreaterThan(0)
    expect(body.cellule?.citations[0]).toMatchObject({ document_id: up.id, title: "cat.txt" })
    expect(body.cellule!.citations[0].score).toBeGreaterThan(0)

    const streamed = await chat(true)
    expect(streamed.status).toBe(200)
    expect(streamed.headers.get("x-cellule-served-by")).toBe("cite-b")
    const events = (await streamed.text())
      .split("\n")
      .filter((l) => l.startsWith("data: {"))
      .map((l) => JSON.parse(l.slice(6)) as Cited & { choices: { finish_reason: string | null }[] })
    const final = events.find((e) => e.choices[0]?.finish_reason)
    expect(final?.cellule?.citations[0].document_id).toBe(up.id)
    // only the final chunk carries them
    expect(events.filter((e) => e.cellule)).toHaveLength(1)
  }, 240_000)
})
