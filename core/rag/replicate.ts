// core/rag/replicate — a project's documents to the other trusted pools, and their erasure.
// Once indexed, a document is published as one "document" envelope (metadata and hash) followed by
// "document_chunks" envelopes (chunks with their vectors), each kept under ENVELOPE_BUDGET bytes so a
// gossip batch stays within the peers' body limit; replication's anti-entropy makes it resumable.
// Erasure publishes a "document_tombstone" (ids and hash only); the sweeper removes stored files of
// erased documents that no document still holds, on every pool (the tombstone's apply runs in SQL).
// Original bytes are NOT replicated: a replicated document answers search and chunks everywhere, and
// its bytes are read from the pool that received the upload (GET …/content answers 410 elsewhere).
import type { Sql } from "../db/client.ts"
import { MAX_CHUNKS_PER_ENVELOPE } from "../federation/kinds/document.ts"
import { Loop } from "../federation/loop.ts"
import { logger } from "../log.ts"
import type { BlobStore } from "./blobs.ts"
import type { Publish } from "./projects.ts"

const log = logger("rag")

/** Serialised payload bytes per document_chunks envelope at most (peers take 4 × 1 MiB per batch). */
export const ENVELOPE_BUDGET = 256 * 1024

export class DocumentReplication {
  private readonly sweeper: Loop

  constructor(
    private readonly sql: Sql,
    private readonly blobs: BlobStore,
    private readonly publish: Publish,
    sweepMs = 1000,
  ) {
    this.sweeper = new Loop(
      "document_erasure",
      sweepMs,
      async () => {
        await this.sweep()
      },
      log,
    )
  }

  start() {
    this.sweeper.start()
  }

  async stop() {
    await this.sweeper.stop()
  }

  /** Publish an indexed document and its chunks (called by the ingestor once it is done). */
  async announce(documentId: string): Promise<void> {
    const [d] = await this.sql`
      select id, project_id, title, content_hash, mime, size_bytes::int as size_bytes, pages, embedding_model,
             chunks_total from documents where id = ${documentId} and indexed_status = 'done'`
    if (!d) return
    const started = performance.now()
    await this.publish("document", { ...d })
    const chunks = await this.sql<
      {
        idx: number
        text: string
        char_start: number
        char_end: number
        page: number | null
        token_count: number
        embedding: string
        embedded_by: string
      }[]
    >`select idx, text, char_start, char_end, page, token_count, embedding::text as embedding, embedded_by
      from chunks where document_id = ${documentId} order by idx`
    let batch: unknown[] = []
    let bytes = 0
    let envelopes = 1
    const flush = async () => {
      if (!batch.length) return
      await this.publish("document_chunks", {
        document_id: d.id,
        project_id: d.project_id,
        embedding_model: d.embedding_model,
        chunks: batch,
      })
      envelopes++
      batch = []
      bytes = 0
    }
    for (const c of chunks) {
      const item = { ...c, embedding: JSON.parse(c.embedding) as number[] }
      const size = JSON.stringify(item).length
      if (batch.length && (bytes + size > ENVELOPE_BUDGET || batch.length >= MAX_CHUNKS_PER_ENVELOPE)) await flush()
      batch.push(item)
      bytes += size
    }
    await flush()
    await this.sql`update documents set announced_at = now() where id = ${documentId}`
    log.info(
      `published document=${d.id} project=${d.project_id} chunks=${chunks.length} envelopes=${envelopes} ms=${(performance.now() - started).toFixed(0)}`,
    )
  }

  /** Erase one document everywhere: the tombstone deletes rows and chunks here and on every pool. */
  async eraseDocument(projectId: string, id: string, contentHash: string): Promise<void> {
    await this.publish("document_tombstone", {
      what: "document",
      project_id: projectId,
      documents: [{ id, content_hash: contentHash }],
    })
    await this.sweep()
  }

  /** Erase a project and every document it held, everywhere. */
  async eraseProject(projectId: string): Promise<void> {
    const docs = await this.sql<{ id: string; content_hash: string }[]>`
      select id, content_hash from documents where project_id = ${projectId}`
    await this.publish("document_tombstone", { what: "project", project_id: projectId, documents: [...docs] })
    await this.sweep()
  }

  /** Publish this pool's indexed documents that were not published yet (the pool stopped in between). */
  async announcePending(): Promise<void> {
    const rows = await this.sql`select id from documents where origin is null and indexed_status = 'done'
                                  and announced_at is null and indexed_at < now() - interval '30 seconds' limit 20`
    for (const r of rows) await this.announce(r.id)
  }

  /** Remove the stored files of erased documents that no remaining document holds. */
  async sweep(): Promise<number> {
    const pending = await this.sql<{ id: string; content_hash: string | null }[]>`
      select id, content_hash from rag_tombstones where not bytes_erased limit 500`
    let removed = 0
    for (const t of pending) {
      if (t.content_hash) {
        const [used] = await this.sql`select 1 from documents where content_hash = ${t.content_hash} limit 1`
        if (!used && (await this.blobs.has(t.content_hash))) {
          await this.blobs.remove(t.content_hash)
          removed++
        }
      }
      await this.sql`update rag_tombstones set bytes_erased = true where id = ${t.id}`
    }
    if (removed) log.info(`erased ${removed} stored file(s) of deleted documents`)
    return removed
  }
}
