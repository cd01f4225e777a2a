// Ingest and search against a real embedded database and a real (tiny) embedder, in process. The
// embedder sits behind EmbeddingService, the seam the pool fills with workers (embed.ts); the
// multi-process proof (a worker computes the vectors, the pool is killed mid-ingest) is in
// test/integration/rag.test.ts.
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { existsSync } from "node:fs"
import { join } from "node:path"
import { ManualClock } from "../../../core/clock.ts"
import type { Database } from "../../../core/db/client.ts"
import { Embedder } from "../../../core/inference/embedder.ts"
import { sha256Hex } from "../../../core/rag/blobs.ts"
import { createRag, type EmbeddingService, type Rag } from "../../../core/rag/index.ts"
import { textQuery } from "../../../core/rag/search.ts"
import { writeTinyEmbedder } from "../../fixtures/embedder.ts"
import { pdfDocument, sampleDocuments, textDocument } from "../../fixtures/documents.ts"
import { testDatabase } from "../../support/db.ts"
import { tempDir } from "../../support/proc.ts"

let db: Database
let embedder: Embedder
let live = true
let calls = { embed: 0, count: 0 }
const clock = new ManualClock(Date.UTC(2026, 5, 1))
const fake: EmbeddingService = {
  model: () => (live ? "tiny" : null),
  slots: () => 1,
  countTokens: async (_m, texts) => {
    calls.count++
    return embedder.countTokens(texts)
  },
  embed: async (_m, texts) => {
    calls.embed++
    return { vectors: await embedder.embed(texts), workerId: "worker-under-test" }
  },
}
const config = (dataDir: string) => ({
  dataDir,
  poolName: "pool-a",
  ragMaxDocumentBytes: 200_000,
  ragChunkTokens: 128,
  ragChunkOverlap: 16,
  ragEmbedderWaitMs: 60_000,
  ragLeaseMs: 30_000,
  ragEmbeddingModel: undefined,
})
let rag: Rag
let dataDir: string

beforeAll(async () => {
  const dir = tempDir("cellule-rag-")
  await writeTinyEmbedder(join(dir, "model"))
  embedder = await Embedder.load({ modelDir: join(dir, "model"), threads: 1 })
  db = await testDatabase()
  dataDir = tempDir("cellule-rag-data-")
  rag = createRag(db.sql, clock, config(dataDir), { embeddings: fake }, { pollMs: 3_600_000 })
  await db.sql`insert into projects (id, name, hlc, origin) values ('prj_aaaaaaaa', 'Cabinet', '0', 'test'), ('prj_bbbbbbbb', 'Other', '0', 'test')`
}, 120_000)

afterAll(async () => {
  await rag?.stop()
  await embedder?.dispose()
})

const FILES = sampleDocuments()

describe("ingest and search", () => {
  test("one file of each type is indexed done with chunks, and a question finds its chunk first", async () => {
    const ids: Record<string, string> = {}
    for (const [name, bytes] of FILES) {
      const { document } = await rag.documents.upload("prj_aaaaaaaa", bytes, `${name} file`)
      expect(document.indexed_status).toBe("pending")
      ids[name] = document.id
    }
    await rag.ingestor.tick()
    const docs = await rag.documents.list("prj_aaaaaaaa")
    for (const [name, , , mime] of FILES) {
      const d = docs.find((x) => x.id === ids[name])!
      expect([name, d.indexed_status, d.reason]).toEqual([name, "done", null])
      expect(d.mime).toBe(mime)
      expect(d.chunks_count).toBeGreaterThan(0)
      expect(d.chunks_embedded).toBe(d.chunks_total)
    }
    const [{ n }] = await db.sql`select count(*)::int as n from chunks where embedded_by <> 'worker-under-test'`
    expect(n).toBe(0)
    for (const [name, , question] of FILES) {
      const r = await rag.search.search("prj_aaaaaaaa", question, 3)
      expect(r.mode).toBe("hybrid")
      expect([name, r.hits[0]?.document_id]).toEqual([name, ids[name]])
    }
    const pdf = await rag.search.search("prj_aaaaaaaa", "company private network", 1)
    expect(pdf.hits[0].page).toBe(2)
  }, 120_000)

  test("re-posting the same bytes is the same document, re-indexed with its chunks replaced, never duplicated", async () => {
    const bytes = textDocument(["Repost test: the cluster answers."])
    const a = await rag.documents.upload("prj_aaaaaaaa", bytes, "first")
    await rag.ingestor.tick()
    const b = await rag.documents.upload("prj_aaaaaaaa", bytes, "second")
    expect(b.document.id).toBe(a.document.id)
    expect(b.created).toBe(false)
    expect(b.document.indexed_status).toBe("pending")
    await rag.ingestor.tick()
    const [{ n, distinct }] = await db.sql`
      select count(*)::int as n, count(distinct idx)::int as distinct from chunks where document_id = ${a.document.id}`
    expect(n).toBe(distinct)
    expect((await rag.documents.get("prj_aaaaaaaa", a.document.id)).indexed_status).toBe("done")
  }, 60_000)

  test("another project's document is not found, and its chunks never appear in this project's search", async () => {
    const { document } = await rag.documents.upload("prj_bbbbbbbb", textDocument(["Secret: the moon cat."]), "s")
    await rag.ingestor.tick()
    await expect(rag.documents.get("prj_aaaaaaaa", document.id)).rejects.toMatchObject({
      code: "document_not_found",
      status: 404,
    })
    const r = await rag.search.search("prj_aaaaaaaa", "secret moon cat", 50)
    expect(r.hits.map((h) => h.document_id)).not.toContain(document.id)
  }, 60_000)

  test("oversize: 413 document_too_large and nothing kept, neither row nor file", async () => {
    const big = new Uint8Array(200_001).fill(65)
    await expect(rag.documents.upload("prj_aaaaaaaa", big, "big")).rejects.toMatchObject({
      code: "document_too_large",
      status: 413,
    })
    const hash = sha256Hex(big)
    expect(existsSync(rag.blobs.path(hash))).toBe(false)
    expect((await db.sql`select 1 from documents where content_hash = ${hash}`).length).toBe(0)
  })

  test.each([
    ["a corrupt PDF", pdfDocument(["x"]).subarray(0, 50), "failed", "corrupt_pdf"],
    ["an unsupported file", new Uint8Array([0, 1, 2, 3, 255, 254]), "skipped", "unsupported_type"],
    ["an empty text", textDocument(["   "]), "skipped", "empty_text"],
  ])("%s ends with a status and a reason", async (_n, bytes, status, reason) => {
    const { document } = await rag.documents.upload("prj_aaaaaaaa", bytes, "bad")
    await rag.ingestor.tick()
    expect(await rag.documents.get("prj_aaaaaaaa", document.id)).toMatchObject({ indexed_status: status, reason })
  })

  test("no embedder: pending(waiting_for_embedder), then done when one joins", async () => {
    live = false
    const { document } = await rag.documents.upload(
      "prj_aaaaaaaa",
      textDocument(["Waiting: the dog and the sun."]),
      "w",
    )
    await rag.ingestor.tick()
    expect(await rag.documents.get("prj_aaaaaaaa", document.id)).toMatchObject({
      indexed_status: "pending",
      reason: "waiting_for_embedder",
    })
    calls = { embed: 0, count: 0 }
    await rag.ingestor.tick() // still none: not re-extracted, not re-tried
    expect(calls).toEqual({ embed: 0, count: 0 })
    live = true
    await rag.ingestor.tick()
    expect(await rag.documents.get("prj_aaaaaaaa", document.id)).toMatchObject({ indexed_status: "done", reason: null })
  }, 60_000)

  test("no embedder for longer than CELLULE_RAG_EMBEDDER_WAIT_MS: failed(embedder_unavailable)", async () => {
    live = false
    const { document } = await rag.documents.upload("prj_aaaaaaaa", textDocument(["Too long: the moon."]), "w2")
    await rag.ingestor.tick()
    clock.advance(60_001)
    await rag.ingestor.tick()
    expect(await rag.documents.get("prj_aaaaaaaa", document.id)).toMatchObject({
      indexed_status: "failed",
      reason: "embedder_unavailable",
    })
    live = true
  })

  test("a document left processing by a dead process is taken over once its lease expires, and indexed once", async () => {
    const { document } = await rag.documents.upload("prj_aaaaaaaa", textDocument(["Lease: the network cell."]), "l")
    await db.sql`update documents set indexed_status = 'processing', lease_owner = 'pool-b:99:1',
      lease_expires_at = ${new Date(clock.now() + 10_000)} where id = ${document.id}`
    await rag.ingestor.tick()
    expect((await rag.documents.get("prj_aaaaaaaa", document.id)).indexed_status).toBe("processing")
    clock.advance(10_001)
    await rag.ingestor.tick()
    expect((await rag.documents.get("prj_aaaaaaaa", document.id)).indexed_status).toBe("done")
  }, 60_000)

  test("a restart of the same pool resumes its own processing documents at once", async () => {
    const { document } = await rag.documents.upload("prj_aaaaaaaa", textDocument(["Restart: the data file."]), "r")
    await db.sql`update documents set indexed_status = 'processing', lease_owner = 'pool-a:1234:5',
      lease_expires_at = ${new Date(clock.now() + 3_600_000)} where id = ${document.id}`
    const again = createRag(db.sql, clock, config(dataDir), { embeddings: fake }, { pollMs: 3_600_000 })
    await again.start() // releases the lease of the earlier process of pool-a, whatever its expiry
    await again.stop()
    expect((await rag.documents.get("prj_aaaaaaaa", document.id)).indexed_status).toBe("pending")
    await rag.ingestor.tick()
    expect((await rag.documents.get("prj_aaaaaaaa", document.id)).indexed_status).toBe("done")
  }, 60_000)

  test("delete erases the row, the chunks and the stored file", async () => {
    const bytes = textDocument(["Erase: the private text."])
    const { document } = await rag.documents.upload("prj_aaaaaaaa", bytes, "e")
    await rag.ingestor.tick()
    await rag.documents.remove("prj_aaaaaaaa", document.id)
    expect((await db.sql`select 1 from chunks where document_id = ${document.id}`).length).toBe(0)
    expect(existsSync(rag.blobs.path(sha256Hex(bytes)))).toBe(false)
  }, 60_000)
})

describe("full-text candidates (chunk_lexemes)", () => {
  test("document frequencies follow ingest and delete; a rare word is found among chunks full of common ones", async () => {
    const pid = "prj_cccccccc"
    await db.sql`insert into projects (id, name, hlc, origin) values (${pid}, 'Terms', '0', 'test')`
    const df = async (lexeme: string) =>
      (await db.sql`select df from chunk_lexemes where project_id = ${pid} and lexeme = ${lexeme}`)[0]?.df ?? 0
    // More chunks holding "the" than the text side may read: only the rare word selects candidates.
    const paragraphs = Array.from({ length: 60 }, (_, i) => `The clause ${i} of the contract binds the parties.`)
    paragraphs.push("The case number RG-7781 names the tenant Dupont.")
    const { document } = await rag.documents.upload(pid, textDocument(paragraphs), "terms")
    await rag.ingestor.tick()
    const [{ n }] = await db.sql`select count(*)::int as n from chunks where document_id = ${document.id}`
    expect(n).toBeGreaterThan(1)
    const [{ m }] = await db.sql`select count(*)::int as m from chunks where document_id = ${document.id}
                                   and tsv @@ to_tsquery('simple', 'dupont')`
    expect(await df("dupont")).toBe(m)
    expect(await df("the")).toBe(n)
    // Full text alone (no embedder live): the tiny embedder's vectors would tie the fusion.
    live = false
    const r = await rag.search.search(pid, "the tenant Dupont", 3).finally(() => {
      live = true
    })
    expect(r.mode).toBe("text")
    expect(r.hits[0].chunk).toContain("Dupont")
    await rag.documents.remove(pid, document.id)
    expect((await db.sql`select count(*)::int as k from chunk_lexemes where project_id = ${pid}`)[0].k).toBe(0)
  }, 60_000)

  test("textQuery: rarest words first while under the cap, weighted by IDF; AND of all when even the rarest is common", () => {
    const terms = [
      { lexeme: "the", df: 900 },
      { lexeme: "dupont", df: 3 },
      { lexeme: "tenant", df: 150 },
      { lexeme: "absent", df: 0 },
      { lexeme: "it's:a|b", df: 1 },
    ]
    const q = textQuery(terms, 1000, 400)!
    expect([q.ts, q.all, q.lexemes]).toEqual([
      "'it''s:a|b' | 'dupont' | 'tenant'",
      false,
      ["it's:a|b", "dupont", "tenant"],
    ])
    expect(q.idf[0]).toBeGreaterThan(q.idf[1])
    expect(q.idf[1]).toBeGreaterThan(q.idf[2])
    expect(textQuery(terms, 1000, 100)!.ts).toBe("'it''s:a|b' | 'dupont'")
    const common = textQuery(
      [
        { lexeme: "the", df: 900 },
        { lexeme: "of", df: 800 },
        { lexeme: "zz", df: 0 },
      ],
      1000,
      400,
    )!
    expect([common.ts, common.all]).toEqual(["'of' & 'the'", true])
    expect(textQuery([{ lexeme: "absent", df: 0 }], 10)).toBeNull()
  })
})
