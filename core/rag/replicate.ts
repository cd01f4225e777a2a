// core/rag/replicate — a project's documents to the other trusted pools, and their erasure.
// Once indexed, a document is published as one "document" envelope (metadata and hash) followed by
// "document_chunks" envelopes (chunks with their vectors), each kept under ENVELOPE_BUDGET bytes so a
// gossip batch stays within the peers' body limit; replication's anti-entropy makes it resumable.
// Erasure publishes a "document_tombstone" (ids and hash only); the sweeper removes stored files of
// erased documents that no document still holds, on every pool (the tombstone's apply runs in SQL).
// Original bytes never travel in envelopes (the federation log is append-only and would keep them after
// an erasure): a pool fetches them from the document's origin pool by a signed pool-to-pool GET
// (/v1/federation/p2p/document-bytes/{sha256}) — at once when the link to the origin is LAN (prefetch
// by the sweeper), on demand (GET …/content) over metro and WAN links — and checks their SHA-256.
import type { Sql } from "../db/client.ts"
import { CelluleError, NotFound } from "../errors.ts"
import { MAX_CHUNKS_PER_ENVELOPE } from "../federation/kinds/document.ts"
import { Loop } from "../federation/loop.ts"
import { logger } from "../log.ts"
import { type BlobStore, sha256Hex } from "./blobs.ts"
import type { Publish } from "./projects.ts"

const log = logger("rag")

/** Serialised payload bytes per document_chunks envelope at most (peers take 4 × 1 MiB per batch). */
export const ENVELOPE_BUDGET = 256 * 1024

/** How this pool reaches its trusted peers (the federation). */
export interface PeerBytes {
  getFromPeer<T>(atomId: string, path: string): Promise<T>
  linkTo(atomId: string): Promise<string | null>
}

export class DocumentReplication {
  private readonly sweeper: Loop

  constructor(
    private readonly sql: Sql,
    private readonly blobs: BlobStore,
    private readonly publish: Publish,
    private readonly remote?: PeerBytes,
    sweepMs = 1000,
  ) {
    // Erased files, documents not yet published, LAN bytes to fetch: one background loop.
    this.sweeper = new Loop(
      "document_replication",
      sweepMs,
      async () => {
        await this.sweep()
        await this.announcePending()
        await this.prefetchLan()
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

  /** The original bytes of a live document, for a trusted peer; 404 when erased or not held here. */
  async bytesFor(hash: string): Promise<Uint8Array> {
    if (!/^[0-9a-f]{64}$/.test(hash)) throw new NotFound("no such document bytes", "document_bytes_missing")
    const [live] = await this.sql`select 1 from documents where content_hash = ${hash} limit 1`
    const bytes = live ? await this.blobs.get(hash) : null
    if (!bytes) throw new NotFound("no such document bytes here", "document_bytes_missing")
    return bytes
  }

  /**
   * Fetch a replicated document's bytes from its origin pool, check their hash and keep them; null
   * when the document has no origin (local) or federation is off. A document erased meanwhile keeps nothing.
   */
  async fetchBytes(doc: { id: string; origin: string | null; content_hash: string }): Promise<Uint8Array | null> {
    if (!this.remote || !doc.origin) return null
    const r = await this.remote.getFromPeer<{ data: string }>(
      doc.origin,
      `/v1/federation/p2p/document-bytes/${doc.content_hash}`,
    )
    const bytes = new Uint8Array(Buffer.from(String(r.data ?? ""), "base64"))
    if (sha256Hex(bytes) !== doc.content_hash)
      throw new CelluleError("document_bytes_mismatch", `the bytes of ${doc.id} from ${doc.origin} do not match`, 502)
    await this.blobs.put(doc.content_hash, bytes)
    const [still] = await this.sql`select 1 from documents where content_hash = ${doc.content_hash} limit 1`
    if (!still) {
      await this.blobs.remove(doc.content_hash)
      return null
    }
    return bytes
  }

  /** Replicated documents whose origin is on the LAN get their bytes at once (a few per tick). */
  private async prefetchLan(): Promise<void> {
    if (!this.remote) return
    const rows = await this.sql<{ id: string; origin: string; content_hash: string }[]>`
      select id, origin, content_hash from documents where origin is not null and bytes_fetched_at is null
      order by created_at limit 5`
    for (const d of rows) {
      const link = await this.remote.linkTo(d.origin)
      if (link === null) continue // not measured yet: next tick
      if (link === "lan" && !(await this.blobs.has(d.content_hash))) {
        try {
          await this.fetchBytes(d)
          log.info(`fetched the bytes of document=${d.id} from ${d.origin} (LAN)`)
        } catch (e) {
          log.warn(`bytes of document=${d.id} not fetched from ${d.origin}: ${(e as Error).message}`)
          continue
        }
      }
      // Tried once per document: over metro and WAN links the bytes come on demand (GET …/content).
      await this.sql`update documents set bytes_fetched_at = now() where id = ${d.id}`
    }
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
