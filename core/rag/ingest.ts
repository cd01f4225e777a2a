// core/rag/ingest — the background indexer: claims one pending document at a time under a lease,
// extracts, chunks on a worker's tokenizer, embeds on workers, and replaces the document's chunks in
// one transaction. The lease is renewed while work goes on; an expired one (a pool killed mid-ingest)
// is taken over and the document starts again from its stored bytes. Never embeds in the pool.
import type { Clock } from "../clock.ts"
import type { Sql } from "../db/client.ts"
import { CelluleError } from "../errors.ts"
import { Loop } from "../federation/loop.ts"
import { logger } from "../log.ts"
import type { BlobStore } from "./blobs.ts"
import { chunkPages, type Chunk } from "./chunk.ts"
import type { EmbeddingService } from "./embed.ts"
import { extract } from "./extract.ts"

const log = logger("document_ingest")

export interface IngestOptions {
  /** Lease owner: unique per process (pool name + pid + start time), so a restart takes over its own leases. */
  owner: string
  /** Leases of this pool name's earlier processes are released at start (same database, same pool). */
  ownerPrefix: string
  leaseMs: number
  embedderWaitMs: number
  chunkTokens: number
  chunkOverlap: number
  pollMs?: number
  /** Texts per embedding job. */
  batchSize?: number
}

interface Claimed {
  id: string
  project_id: string
  title: string
  content_hash: string
  attempts: number
  waiting_since: Date | null
}

/** Attempts after which a document that keeps failing for a passing reason (worker lost) is failed for good. */
const MAX_ATTEMPTS = 5

class LeaseLost extends Error {}

export class Ingestor {
  private readonly loop: Loop
  private stopping = false
  /** Called once a document is indexed (replication publishes it); a failure there is logged, not retried here. */
  onDone?: (documentId: string) => Promise<void>

  constructor(
    private readonly sql: Sql,
    private readonly blobs: BlobStore,
    private readonly embeddings: EmbeddingService,
    private readonly clock: Clock,
    private readonly opts: IngestOptions,
  ) {
    this.loop = new Loop("document_ingest", opts.pollMs ?? 1000, () => this.tick(), log)
  }

  get state() {
    return this.loop.state
  }

  async start() {
    // Same pool, earlier process (killed or crashed): its documents restart now rather than at lease expiry.
    const released = await this.sql`
      update documents set indexed_status = 'pending', lease_owner = null, lease_expires_at = null
      where indexed_status = 'processing' and lease_owner like ${`${this.opts.ownerPrefix}:%`}
        and lease_owner <> ${this.opts.owner}
      returning id`
    for (const r of released) log.info(`document ${r.id}: resumes after a restart of this pool (from stored bytes)`)
    this.loop.start({ immediate: true })
  }

  /** Look for work now (after an upload, or when an embedder joins). */
  kick() {
    this.loop.kick()
  }

  async stop() {
    this.stopping = true
    await this.loop.stop()
  }

  private now() {
    return new Date(this.clock.now())
  }

  /** Work through every claimable document, one at a time. */
  async tick(): Promise<void> {
    await this.expireWaiting()
    while (!this.stopping) {
      const doc = await this.claim()
      if (!doc) return
      await this.process(doc)
    }
  }

  /** Documents that waited for an embedder longer than allowed fail, with the reason the guide names. */
  private async expireWaiting() {
    const limit = new Date(this.clock.now() - this.opts.embedderWaitMs)
    const failed = await this.sql`
      update documents set indexed_status = 'failed', reason = 'embedder_unavailable', updated_at = ${this.now()}
      where indexed_status = 'pending' and waiting_since is not null and waiting_since < ${limit}
      returning id, project_id`
    for (const d of failed)
      log.warn(`failed document=${d.id} project=${d.project_id} reason=embedder_unavailable (no embedder for too long)`)
  }

  private async claim(): Promise<Claimed | null> {
    const now = this.now()
    const expires = new Date(this.clock.now() + this.opts.leaseMs)
    // A document already known to wait for an embedder is only taken again once one is live.
    const embedderLive = this.embeddings.model() !== null
    const [doc] = await this.sql<Claimed[]>`
      update documents set indexed_status = 'processing', lease_owner = ${this.opts.owner},
        lease_expires_at = ${expires}, attempts = attempts + 1, updated_at = ${now}
      where id = (
        select id from documents
        where (indexed_status = 'pending' and (${embedderLive} or waiting_since is null))
           or (indexed_status = 'processing' and lease_expires_at < ${now})
        order by created_at, id
        limit 1
        for update skip locked)
      returning id, project_id, title, content_hash, attempts, waiting_since`
    return doc ?? null
  }

  private async process(doc: Claimed) {
    const renew = setInterval(
      () => void this.renew(doc.id).catch((e) => log.warn(`lease of ${doc.id} not renewed: ${(e as Error).message}`)),
      Math.max(100, Math.floor(this.opts.leaseMs / 3)),
    )
    try {
      await this.index(doc)
    } catch (e) {
      if (e instanceof LeaseLost) return log.warn(`document ${doc.id}: lease lost to another process, leaving it`)
      const code = e instanceof CelluleError ? e.code : "ingest_error"
      const passing = ["no_worker_available", "worker_lost", "queue_timeout", "queue_full", "pool_stopping"]
      if (passing.includes(code) && doc.attempts < MAX_ATTEMPTS) {
        log.info(`document ${doc.id}: ${code}, will retry (attempt ${doc.attempts})`)
        await this.finish(doc.id, "pending", null)
      } else {
        log.error(`failed document=${doc.id} project=${doc.project_id} reason=${code}: ${(e as Error).message}`)
        await this.finish(doc.id, "failed", code)
      }
    } finally {
      clearInterval(renew)
    }
  }

  private async index(doc: Claimed) {
    const started = performance.now()
    const bytes = await this.blobs.get(doc.content_hash)
    if (!bytes) {
      log.error(`failed document=${doc.id} project=${doc.project_id} reason=bytes_missing`)
      return this.finish(doc.id, "failed", "bytes_missing")
    }
    const ex = await extract(bytes)
    await this.sql`update documents set mime = ${ex.mime} where id = ${doc.id}`
    if (ex.status !== "ok") {
      const say = ex.status === "failed" ? log.warn : log.info
      say(`${ex.status} document=${doc.id} project=${doc.project_id} mime=${ex.mime} reason=${ex.reason}`)
      return this.finish(doc.id, ex.status, ex.reason)
    }
    const model = this.embeddings.model()
    if (!model) return this.waitForEmbedder(doc)
    const pages = ex.pages.filter((p) => p.page !== null).length || null
    const chunks = await chunkPages(ex.pages, { tokens: this.opts.chunkTokens, overlap: this.opts.chunkOverlap }, (t) =>
      this.embeddings.countTokens(model, t),
    )
    await this.progress(doc.id, 0, chunks.length, pages)
    const vectors = await this.embedAll(doc.id, model, chunks)
    await this.commit(doc, model, chunks, vectors)
    await this.maybeAnalyze(chunks.length)
    if (this.onDone)
      await this.onDone(doc.id).catch((e) => log.warn(`document ${doc.id} not published: ${(e as Error).message}`))
    const s = (performance.now() - started) / 1000
    const workers = [...new Set(vectors.map((v) => v.workerId))].join(",")
    log.info(
      `done document=${doc.id} project=${doc.project_id} mime=${ex.mime} pages=${pages ?? "-"} chunks=${chunks.length} model=${model} workers=${workers} seconds=${s.toFixed(2)}`,
    )
  }

  /** Batches run in parallel up to the embedder slots live now; progress is recorded as they land. */
  private async embedAll(id: string, model: string, chunks: Chunk[]) {
    const size = this.opts.batchSize ?? 32
    const out: { vector: number[]; workerId: string }[] = new Array(chunks.length)
    let next = 0
    let done = 0
    const live = Math.max(1, this.embeddings.slots(model))
    const lane = async () => {
      while (next < chunks.length) {
        if (this.stopping) throw new CelluleError("pool_stopping", "the pool is shutting down", 503)
        const from = next
        next += size
        const batch = chunks.slice(from, from + size)
        const r = await this.embeddings.embed(
          model,
          batch.map((c) => c.text),
          "batch",
        )
        r.vectors.forEach((vector, i) => {
          out[from + i] = { vector, workerId: r.workerId }
        })
        done += batch.length
        await this.progress(id, done, chunks.length)
      }
    }
    await Promise.all(Array.from({ length: live }, lane))
    return out
  }

  private async commit(
    doc: Claimed,
    model: string,
    chunks: Chunk[],
    vectors: { vector: number[]; workerId: string }[],
  ) {
    await this.sql.begin(async (tx) => {
      const [mine] = await tx`
        select 1 from documents where id = ${doc.id} and lease_owner = ${this.opts.owner} for update`
      if (!mine) throw new LeaseLost()
      // Replace, never append: a re-post or a resumed ingest leaves exactly one set of chunks.
      await tx`delete from chunks where document_id = ${doc.id}`
      const rows = chunks.map((c, i) => ({
        document_id: doc.id,
        project_id: doc.project_id,
        idx: c.index,
        text: c.text,
        char_start: c.charStart,
        char_end: c.charEnd,
        page: c.page,
        token_count: c.tokens,
        embedding: `[${vectors[i].vector.join(",")}]`,
        embedded_by: vectors[i].workerId,
      }))
      for (let i = 0; i < rows.length; i += 200) await tx`insert into chunks ${tx(rows.slice(i, i + 200))}`
      await tx`
        update documents set indexed_status = 'done', reason = null, embedding_model = ${model},
          chunks_total = ${chunks.length}, chunks_embedded = ${chunks.length}, lease_owner = null,
          lease_expires_at = null, waiting_since = null, indexed_at = ${this.now()}, updated_at = ${this.now()}
        where id = ${doc.id}`
    })
  }

  // The embedded database has no autovacuum: without fresh statistics the planner picks a scan of the
  // project's rows over the HNSW and GIN indexes. Re-analyse once the table has grown by a fifth.
  private inserted = 0
  private analyzedAt = 0
  private async maybeAnalyze(added: number) {
    this.inserted += added
    if (this.inserted < Math.max(200, this.analyzedAt / 5)) return
    await this.sql`analyze chunks`
    const [{ n }] = await this.sql`select count(*)::int as n from chunks`
    this.analyzedAt = n
    this.inserted = 0
  }

  private async waitForEmbedder(doc: Claimed) {
    await this.sql`
      update documents set indexed_status = 'pending', reason = 'waiting_for_embedder',
        waiting_since = coalesce(waiting_since, ${this.now()}), lease_owner = null, lease_expires_at = null,
        updated_at = ${this.now()}
      where id = ${doc.id} and lease_owner = ${this.opts.owner}`
    if (!doc.waiting_since) log.info(`document ${doc.id}: pending, waiting_for_embedder (no worker offers an embedder)`)
  }

  private async progress(id: string, embedded: number, total: number, pages?: number | null) {
    const expires = new Date(this.clock.now() + this.opts.leaseMs)
    const rows = await this.sql`
      update documents set chunks_embedded = ${embedded}, chunks_total = ${total}, lease_expires_at = ${expires},
        pages = coalesce(${pages ?? null}, pages), reason = null, waiting_since = null, updated_at = ${this.now()}
      where id = ${id} and lease_owner = ${this.opts.owner}
      returning id`
    if (!rows.length) throw new LeaseLost()
  }

  private async renew(id: string) {
    const expires = new Date(this.clock.now() + this.opts.leaseMs)
    await this.sql`
      update documents set lease_expires_at = ${expires} where id = ${id} and lease_owner = ${this.opts.owner}`
  }

  private async finish(id: string, status: "pending" | "skipped" | "failed", reason: string | null) {
    await this.sql`
      update documents set indexed_status = ${status}, reason = ${reason}, lease_owner = null,
        lease_expires_at = null, updated_at = ${this.now()}
      where id = ${id} and lease_owner = ${this.opts.owner}`
  }
}
