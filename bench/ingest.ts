// bench/ingest — RAG ingest throughput and search latency. Prints one table per part.
//   ./node_modules/.bin/bun bench/ingest.ts [--pages 40] [--workers 1,2] [--chunks 10000,100000] [--queries 200]
// Ingest: a real `cellule pool` and N `cellule worker --embedder` (the tiny generated embedder), one
// PDF of --pages pages uploaded over HTTP; pages/s and chunks/s from the 202 to `done`.
// CELLULE_INTERACTIVE_RESERVE=0 so batch embedding may use every worker (the default keeps one
// embedder slot for search queries, which serialises ingest on two one-slot workers).
// Search: the embedded database (PGlite + pgvector) in this process, filled with N synthetic chunks
// (random unit vectors, text from a small vocabulary), HNSW built after the load; p50/p95 of the
// hybrid query (vector + full text + fusion) for random queries. Query embedding is not included.
import { readFileSync } from "node:fs"
import { cacheMbFor } from "../core/db/cache-size.ts"
import { openDatabase, type Sql } from "../core/db/client.ts"
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

// Vectors: "uniform" (random unit vectors: no structure at all, the worst case for a graph index: every
// point is about as far from every other) or "clustered" (what a firm's documents give an embedder: 100
// topics, a document near its topic, its chunks near the document; a query near one document). Real
// MiniLM vectors cannot be downloaded here; both kinds are printed.
type VectorKind = "uniform" | "clustered"
const gauss = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand())
const normalize = (v: number[]) => {
  const n = Math.hypot(...v)
  return v.map((x) => x / n)
}
/** `centre` moved by a random vector of norm `spread`, back on the unit sphere. */
const near = (centre: number[], spread: number) => {
  const noise = normalize(centre.map(() => gauss()))
  return normalize(centre.map((x, i) => x + spread * noise[i]))
}
const TOPICS = Array.from({ length: 100 }, () => unit())
const docCentres = new Map<number, number[]>()
const docCentre = (d: number) => {
  let c = docCentres.get(d)
  if (!c) {
    c = near(TOPICS[d % TOPICS.length], 0.7)
    docCentres.set(d, c)
  }
  return c
}
const chunkVector = (kind: VectorKind, doc: number) => (kind === "uniform" ? unit() : near(docCentre(doc), 0.7))

async function fill(sql: Sql, chunks: number, kind: VectorKind) {
  await sql`insert into projects (id, name, hlc, origin) values ('prj_benchbench', 'bench', '0', 'bench')`
  // Loaded like a restore: indexes and the document-frequency trigger off, then built once (the rows and
  // indexes end up exactly as ingest leaves them; row by row with a GIN index it took 15 min).
  await sql`drop index chunks_embedding_hnsw`
  await sql`drop index chunks_tsv`
  await sql`alter table chunks disable trigger chunk_lexemes_insert`
  const docs = Math.max(1, Math.floor(chunks / 100))
  for (let d = 0; d < docs; d++)
    await sql`insert into documents (id, project_id, title, content_hash, mime, size_bytes, indexed_status, embedding_model)
      values (${`doc_${d}`}, 'prj_benchbench', ${`Document ${d}`}, ${d.toString(16).padStart(64, "0")}, 'text/plain', 1, 'done', 'bench')`
  const load0 = performance.now()
  for (let i = 0; i < chunks; i += 1000) {
    const rows = Array.from({ length: Math.min(1000, chunks - i) }, (_, j) => {
      const doc = Math.floor((i + j) / 100) % docs
      return {
        document_id: `doc_${doc}`,
        project_id: "prj_benchbench",
        idx: (i + j) % 100,
        text: sentence(60),
        char_start: 0,
        char_end: 1,
        page: 1,
        token_count: 64,
        embedding: `[${chunkVector(kind, doc).join(",")}]`,
        embedded_by: "bench",
      }
    })
    await sql`insert into chunks ${sql(rows)}`
    if ((i / 1000) % 10 === 9) console.error(`loaded ${i + rows.length}/${chunks}`)
  }
  await sql`alter table chunks enable trigger chunk_lexemes_insert`
  await sql`insert into chunk_lexemes (project_id, lexeme, df)
    select c.project_id, l.lexeme, count(*)::int
    from chunks c, unnest('{""}' || tsvector_to_array(c.tsv)) as l (lexeme)
    group by c.project_id, l.lexeme`
  const loadS = (performance.now() - load0) / 1000
  const idx0 = performance.now()
  // Both graphs are built in memory when they fit maintenance_work_mem (64 MB by default: not at 100 000).
  await sql.begin(async (tx) => {
    await tx`set local maintenance_work_mem = '1GB'`
    await tx`create index chunks_tsv on chunks using gin (tsv)`
    await tx`create index chunks_embedding_hnsw on chunks using hnsw (embedding vector_cosine_ops)`
  })
  await sql`analyze chunks`
  await sql`checkpoint`
  return { loadS, indexS: (performance.now() - idx0) / 1000 }
}

const queryVector = (kind: VectorKind, chunks: number) =>
  chunkVector(kind, Math.floor(rand() * Math.max(1, Math.floor(chunks / 100))))

/** Share of the exact 10 nearest (a sequential scan) that the HNSW side of search returns. */
async function recallAt10(sql: Sql, kind: VectorKind, chunks: number, n: number) {
  let found = 0
  for (let i = 0; i < n; i++) {
    const v = `[${queryVector(kind, chunks).join(",")}]`
    const key = (r: { document_id: string; idx: number }) => `${r.document_id}/${r.idx}`
    const [approx, exact] = await sql.begin(async (tx) => {
      await tx`select set_config('hnsw.ef_search', '50', true), set_config('hnsw.iterative_scan', 'relaxed_order', true)`
      const a = await tx<{ document_id: string; idx: number }[]>`
        select document_id, idx from chunks where project_id = 'prj_benchbench' order by embedding <=> ${v}::vector limit 10`
      await tx`set local enable_indexscan = off`
      await tx`set local enable_bitmapscan = off`
      const e = await tx<{ document_id: string; idx: number }[]>`
        select document_id, idx from chunks where project_id = 'prj_benchbench' order by embedding <=> ${v}::vector limit 10`
      return [new Set(a.map(key)), e.map(key)]
    })
    found += exact.filter((k) => approx.has(k)).length
  }
  return found / (n * 10)
}

interface SearchRun {
  chunks: number
  kind: VectorKind
  cache: string
  cacheMb: number
  loadS: number
  indexS: number
  coldP95: number
  p50: number
  p95: number
  cpuP50: number
  cpuP95: number
  recall: number
  rssMb: number
}

async function search(chunks: number, kind: VectorKind, cache: number | "auto", queries: number): Promise<SearchRun> {
  // --db DIR keeps the filled database: a second run at the same size skips the load and the index build.
  const keep = arg("db", "")
  const dataDir = keep ? `${keep}-${chunks}-${kind}` : tempDir("cellule-bench-db-")
  const pgdata = `${dataDir}/pgdata`
  const cacheMb = cacheMbFor(pgdata, cache)
  const db = await openDatabase({ dataDir, cacheMb: cache })
  const sql = db.sql
  const [{ n: have }] = await sql<
    { n: number }[]
  >`select count(*)::int as n from chunks where project_id = 'prj_benchbench'`
  let built = { loadS: 0, indexS: 0 }
  if (have !== chunks) {
    if (have) throw new Error(`${dataDir} holds ${have} chunks, not ${chunks}`)
    built = await fill(sql, chunks, kind)
  }
  const fake: EmbeddingService = {
    model: () => "bench",
    slots: () => 1,
    countTokens: async (_m, t) => t.map(() => 1),
    embed: async (_m, t) => ({ vectors: t.map(() => queryVector(kind, chunks)), workerId: "bench" }),
  }
  const s = new Search(sql, fake)
  // Wall time, and the process's CPU time: the database runs in this process, so CPU per query is the
  // search's own cost (client + PostgreSQL), which the other processes of a shared machine do not inflate.
  const cpuMs = () => {
    const u = process.cpuUsage()
    return (u.user + u.system) / 1000
  }
  const timed = async (n: number) => {
    const times: number[] = []
    const cpu: number[] = []
    for (let i = 0; i < n; i++) {
      const t0 = performance.now()
      const c0 = cpuMs()
      const r = await s.search("prj_benchbench", sentence(6), 10)
      times.push(performance.now() - t0)
      cpu.push(cpuMs() - c0)
      if (r.hits.length === 0) throw new Error("no hits")
    }
    return { times, cpu }
  }
  // The first queries after a start read the graph from disk: reported apart ("cold"), then the steady state.
  const { times: cold } = await timed(Math.min(50, queries))
  const { times, cpu } = await timed(queries)
  const recall = await recallAt10(sql, kind, chunks, Number(arg("recall", "20")))
  const rssMb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync("/proc/self/status", "utf8"))?.[1] ?? 0) / 1024
  await db.close()
  return {
    chunks,
    kind,
    cache: String(cache),
    cacheMb,
    ...built,
    coldP95: pct(cold, 95),
    p50: pct(times, 50),
    p95: pct(times, 95),
    cpuP50: pct(cpu, 50),
    cpuP95: pct(cpu, 95),
    recall,
    rssMb,
  }
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
  const kinds = arg("vectors", "clustered,uniform").split(",").filter(Boolean) as VectorKind[]
  const caches = arg("cache", "16,auto")
    .split(",")
    .filter(Boolean)
    .map((c) => (c === "auto" ? "auto" : Number(c)))
  const rounds = Number(arg("rounds", "1"))
  console.log(
    `\nbench/ingest search — ${new Date().toISOString()}, load ${readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ")}, ${queries} queries after 50 cold ones, top_k 10`,
  )
  console.log(
    "| chunks | vectors | cache | cache MB | round | load_s | index_build_s | cold_p95_ms | search_p50_ms | search_p95_ms | cpu_p50_ms | cpu_p95_ms | recall@10 (vector side) | RSS MB |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
  )
  for (const n of chunkCounts)
    for (const kind of kinds)
      for (let round = 1; round <= rounds; round++)
        // The cache settings alternate order between rounds: the machine's drift lands on both.
        for (const cache of round % 2 ? caches : [...caches].reverse()) {
          const r = await search(n, kind, cache, queries)
          console.log(
            `| ${r.chunks} | ${r.kind} | ${r.cache} | ${r.cacheMb} | ${round} | ${r.loadS.toFixed(1)} | ${r.indexS.toFixed(1)} | ${r.coldP95.toFixed(1)} | ${r.p50.toFixed(1)} | ${r.p95.toFixed(1)} | ${r.cpuP50.toFixed(1)} | ${r.cpuP95.toFixed(1)} | ${r.recall.toFixed(3)} | ${r.rssMb.toFixed(0)} |`,
          )
        }
}
process.exit(0)
