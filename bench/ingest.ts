// bench/ingest — RAG ingest throughput and search latency. Prints one table per part.
//   ./node_modules/.bin/bun bench/ingest.ts [--pages 40] [--workers 1,2] [--chunks 10000,100000] [--queries 200]
// Ingest: a real `cellule pool` and N `cellule worker --embedder` (the tiny generated embedder), one
// PDF of --pages pages uploaded over HTTP; pages/s and chunks/s from the 202 to `done`.
// CELLULE_INTERACTIVE_RESERVE=0 so batch embedding may use every worker (the default keeps one
// embedder slot for search queries, which serialises ingest on two one-slot workers).
// Search: the embedded database (PGlite + pgvector) in this process, filled with N synthetic chunks
// (random unit vectors, text from a small vocabulary), HNSW built after the load; p50/p95 of the
// hybrid query (vector + full text + fusion) for random queries. Query embedding is not included.
import { openDatabase } from "../core/db/client.ts"
import { setLogLevel } from "../core/log.ts"
import type { EmbeddingService } from "../core/rag/embed.ts"
import { Search } from "../core/rag/search.ts"
import { pdfDocument } from "../test/fixtures/documents.ts"
import { tinyEmbedderDir } from "../test/support/fixtures.ts"
import { cleanupAll, startPool, startWorker, tempDir } from "../test/support/proc.ts"
import { arg } from "./_args.ts"

const TOKEN = "bench-ingest-token-0123456789"
const ADMIN = { "x-cellule-user": "admin@test.local" }
// A vocabulary the size of a firm's documents (5 000 made-up words): full text must stay selective.
const SYLLABLES = "ba ce di fo gu ha je ki lo mu na pe ri so tu va we xi yo zu".split(" ")
const WORDS = Array.from({ length: 5000 }, (_, i) => {
  let w = ""
  for (let n = i + 400; n > 0; n = Math.floor(n / 20)) w += SYLLABLES[n % 20]
  return w
})

const rand = mulberry(7)
function mulberry(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
const sentence = (n: number) => Array.from({ length: n }, () => WORDS[Math.floor(rand() * WORDS.length)]).join(" ")
const unit = (d = 384) => {
  const v = Array.from({ length: d }, () => rand() - 0.5)
  const n = Math.hypot(...v)
  return v.map((x) => x / n)
}
const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]

async function ingest(workers: number, pages: number) {
  const pool = await startPool({
    env: { CELLULE_WORKER_TOKEN: TOKEN, CELLULE_TRUSTED_NETWORKS: "127.0.0.1/32", CELLULE_INTERACTIVE_RESERVE: "0" },
  })
  const embedder = await tinyEmbedderDir()
  for (let i = 0; i < workers; i++) await startWorker({ poolUrl: pool.url, token: TOKEN, embedder, threads: 1 })
  const created = await fetch(`${pool.url}/v1/projects`, {
    method: "POST",
    headers: { ...ADMIN, "content-type": "application/json" },
    body: JSON.stringify({ name: "bench" }),
  })
  const { id: pid } = (await created.json()) as { id: string }
  // About 45 lines of ~9 words per page: a dense page of a contract.
  const doc = pdfDocument(Array.from({ length: pages }, () => Array.from({ length: 45 }, () => sentence(9)).join("\n")))
  const form = new FormData()
  form.append("file", new Blob([doc as BlobPart]), "bench.pdf")
  const t0 = performance.now()
  const up = await fetch(`${pool.url}/v1/projects/${pid}/documents`, { method: "POST", body: form, headers: ADMIN })
  const { id } = (await up.json()) as { id: string }
  let d: { indexed_status: string; chunks_count: number; pages: number; reason: string | null }
  for (;;) {
    d = (await (await fetch(`${pool.url}/v1/projects/${pid}/documents/${id}`, { headers: ADMIN })).json()) as typeof d
    if (d.indexed_status !== "pending" && d.indexed_status !== "processing") break
    await Bun.sleep(50)
  }
  const s = (performance.now() - t0) / 1000
  await cleanupAll()
  if (d.indexed_status !== "done") throw new Error(`ingest ended ${d.indexed_status} (${d.reason})`)
  return {
    workers,
    pages: d.pages,
    chunks: d.chunks_count,
    seconds: s,
    pagesPerS: d.pages / s,
    chunksPerS: d.chunks_count / s,
  }
}

async function search(chunks: number, queries: number) {
  // --db DIR keeps the filled database: a second run at the same size skips the load and the index build.
  const keep = arg("db", "")
  const dataDir = keep ? `${keep}-${chunks}` : tempDir("cellule-bench-db-")
  const db = await openDatabase({ dataDir })
  const sql = db.sql
  const [{ n: have }] = await sql<
    { n: number }[]
  >`select count(*)::int as n from chunks where project_id = 'prj_benchbench'`
  let loadS = 0
  let indexS = 0
  if (have !== chunks) {
    if (have) throw new Error(`${dataDir} holds ${have} chunks, not ${chunks}`)
    await sql`insert into projects (id, name, hlc, origin) values ('prj_benchbench', 'bench', '0', 'bench')`
    await sql`drop index chunks_embedding_hnsw`
    const docs = Math.max(1, Math.floor(chunks / 100))
    for (let d = 0; d < docs; d++)
      await sql`insert into documents (id, project_id, title, content_hash, mime, size_bytes, indexed_status, embedding_model)
        values (${`doc_${d}`}, 'prj_benchbench', ${`Document ${d}`}, ${d.toString(16).padStart(64, "0")}, 'text/plain', 1, 'done', 'bench')`
    const load0 = performance.now()
    for (let i = 0; i < chunks; i += 500) {
      const rows = Array.from({ length: Math.min(500, chunks - i) }, (_, j) => ({
        document_id: `doc_${Math.floor((i + j) / 100) % docs}`,
        project_id: "prj_benchbench",
        idx: (i + j) % 100,
        text: sentence(60),
        char_start: 0,
        char_end: 1,
        page: 1,
        token_count: 64,
        embedding: `[${unit().join(",")}]`,
        embedded_by: "bench",
      }))
      await sql`insert into chunks ${sql(rows)}`
    }
    loadS = (performance.now() - load0) / 1000
    const idx0 = performance.now()
    // The graph is built in memory when it fits maintenance_work_mem (64 MB by default: not at 100 000).
    await sql.begin(async (tx) => {
      await tx`set local maintenance_work_mem = '1GB'`
      await tx`create index chunks_embedding_hnsw on chunks using hnsw (embedding vector_cosine_ops)`
    })
    await sql`analyze chunks`
    indexS = (performance.now() - idx0) / 1000
  }
  const fake: EmbeddingService = {
    model: () => "bench",
    slots: () => 1,
    countTokens: async (_m, t) => t.map(() => 1),
    embed: async (_m, t) => ({ vectors: t.map(() => unit()), workerId: "bench" }),
  }
  const s = new Search(sql, fake)
  for (let i = 0; i < 5; i++) await s.search("prj_benchbench", sentence(6), 10) // warm-up
  if (process.argv.includes("--explain")) {
    const v = `[${unit().join(",")}]`
    const q = sentence(6)
    await sql.begin(async (tx) => {
      await tx`select set_config('hnsw.ef_search', '250', true)`
      for (const r of await tx`explain analyze select document_id, idx from chunks where project_id = 'prj_benchbench' order by embedding <=> ${v}::vector limit 50`)
        console.log(String(r["QUERY PLAN"]).replace(/'\[[-0-9.,e]+\]'/, "'[…]'"))
      for (const r of await tx`explain analyze select document_id, idx from chunks, (select replace(plainto_tsquery('simple', ${q})::text, '&', '|')::tsquery as ts) q where project_id = 'prj_benchbench' and tsv @@ q.ts order by ts_rank_cd(tsv, q.ts) desc limit 50`)
        console.log(String(r["QUERY PLAN"]).replace(/'\[[-0-9.,e]+\]'/, "'[…]'"))
    })
  }
  const times: number[] = []
  for (let i = 0; i < queries; i++) {
    const t0 = performance.now()
    const r = await s.search("prj_benchbench", sentence(6), 10)
    times.push(performance.now() - t0)
    if (r.hits.length === 0) throw new Error("no hits")
  }
  await db.close()
  return { chunks, loadS, indexS, p50: pct(times, 50), p95: pct(times, 95) }
}

setLogLevel("warn")
const pages = Number(arg("pages", "40"))
const workerCounts = arg("workers", "1,2").split(",").filter(Boolean).map(Number)
const chunkCounts = arg("chunks", "10000,100000").split(",").filter(Boolean).map(Number)
const queries = Number(arg("queries", "200"))

if (workerCounts.length) {
  console.log("| workers | pages | chunks | seconds | pages/s | chunks/s |\n| --- | --- | --- | --- | --- | --- |")
  for (const w of workerCounts) {
    const r = await ingest(w, pages)
    console.log(
      `| ${r.workers} | ${r.pages} | ${r.chunks} | ${r.seconds.toFixed(1)} | ${r.pagesPerS.toFixed(2)} | ${r.chunksPerS.toFixed(1)} |`,
    )
  }
}
if (chunkCounts.length) {
  console.log("\n| chunks | load_s | hnsw_build_s | search_p50_ms | search_p95_ms |\n| --- | --- | --- | --- | --- |")
  for (const n of chunkCounts) {
    const r = await search(n, queries)
    console.log(
      `| ${r.chunks} | ${r.loadS.toFixed(1)} | ${r.indexS.toFixed(1)} | ${r.p50.toFixed(1)} | ${r.p95.toFixed(1)} |`,
    )
  }
}
process.exit(0)
