// core/rag/documents — a project's documents: rows, their bytes (BlobStore), listing and erasure.
// Upload is durable before it answers: bytes fsynced, then the row committed. Re-posting the same
// content hash in a project is the same document, queued again for indexing.
import { randomBytes } from "node:crypto"
import type { Clock } from "../clock.ts"
import type { Sql } from "../db/client.ts"
import { CelluleError, NotFound } from "../errors.ts"
import { type BlobStore, sha256Hex } from "./blobs.ts"

export type IndexedStatus = "pending" | "processing" | "done" | "skipped" | "failed"

export interface DocumentRow {
  id: string
  project_id: string
  title: string
  content_hash: string
  mime: string
  size_bytes: number
  indexed_status: IndexedStatus
  reason: string | null
  chunks_count: number
  chunks_embedded: number
  chunks_total: number
  pages: number | null
  embedding_model: string | null
  /** Workers that computed this document's vectors. */
  embedded_by: string[]
  created_at: Date
  indexed_at: Date | null
}

export class DocumentTooLarge extends CelluleError {
  constructor(size: number, max: number) {
    super("document_too_large", `the document is ${size} bytes; this pool accepts at most ${max}`, 413)
  }
}

export const newDocumentId = () => `doc_${randomBytes(12).toString("hex")}`

const COLUMNS = `d.id, d.project_id, d.title, d.content_hash, d.mime, d.size_bytes::int as size_bytes, d.indexed_status,
  d.reason, d.chunks_embedded, d.chunks_total, d.pages, d.embedding_model, d.created_at, d.indexed_at,
  (select count(*)::int from chunks c where c.document_id = d.id) as chunks_count,
  (select coalesce(array_agg(distinct c.embedded_by), '{}') from chunks c where c.document_id = d.id) as embedded_by`

export class Documents {
  constructor(
    private readonly sql: Sql,
    private readonly blobs: BlobStore,
    private readonly clock: Clock,
    private readonly maxBytes: number,
    private readonly erase?: (projectId: string, id: string, contentHash: string) => Promise<void>,
    /** A replicated document's bytes from its origin pool (null: none to ask). */
    private readonly fetchBytes?: (doc: {
      id: string
      origin: string | null
      content_hash: string
    }) => Promise<Uint8Array | null>,
  ) {}

  /** Throws 404 project_not_found unless the project exists (and, for a scoped caller, is theirs). */
  /** Ingest backlog for /metrics: documents waiting or being indexed, and their chunks not embedded yet. */
  async backlog(): Promise<{ documents: number; chunks: number }> {
    const [r] = await this.sql<{ documents: number; chunks: number }[]>`
      select count(*)::int as documents, coalesce(sum(greatest(chunks_total - chunks_embedded, 0)), 0)::int as chunks
      from documents where indexed_status in ('pending', 'processing')`
    return { documents: r?.documents ?? 0, chunks: r?.chunks ?? 0 }
  }

  async requireProject(projectId: string): Promise<void> {
    const [p] = await this.sql`select 1 from projects where id = ${projectId}`
    if (!p) throw new NotFound(`no project ${projectId}`, "project_not_found")
  }

  /**
   * Keep the bytes (fsynced) and commit the row, then answer: the document is pending. The same bytes
   * again in the same project give the same document, reset to pending (its chunks are replaced, in
   * one transaction, when it is indexed again). The type is decided from the bytes at ingest.
   */
  async upload(
    projectId: string,
    bytes: Uint8Array,
    title: string,
  ): Promise<{ document: DocumentRow; created: boolean }> {
    if (bytes.byteLength > this.maxBytes) throw new DocumentTooLarge(bytes.byteLength, this.maxBytes)
    await this.requireProject(projectId)
    const hash = sha256Hex(bytes)
    await this.blobs.put(hash, bytes)
    const now = new Date(this.clock.now())
    const id = newDocumentId()
    const created = await this.sql.begin(async (tx) => {
      const [row] = await tx`
        insert into documents (id, project_id, title, content_hash, mime, size_bytes, created_at, updated_at)
        values (${id}, ${projectId}, ${title}, ${hash}, 'application/octet-stream', ${bytes.byteLength}, ${now}, ${now})
        on conflict (project_id, content_hash) do update
          set indexed_status = case when documents.indexed_status = 'processing' then 'processing' else 'pending' end,
              reason = null, waiting_since = null, attempts = 0, updated_at = excluded.updated_at
        returning (xmax = 0) as inserted`
      return row.inserted as boolean
    })
    const [doc] = await this.sql<DocumentRow[]>`
      select ${this.sql.unsafe(COLUMNS)} from documents d where d.project_id = ${projectId} and d.content_hash = ${hash}`
    return { document: doc, created }
  }

  async list(projectId: string): Promise<DocumentRow[]> {
    await this.requireProject(projectId)
    return await this.sql<DocumentRow[]>`
      select ${this.sql.unsafe(COLUMNS)} from documents d where d.project_id = ${projectId} order by d.created_at, d.id`
  }

  /** A document of this project; another project's document is 404, as if it did not exist. */
  async get(projectId: string, id: string): Promise<DocumentRow> {
    const [doc] = await this.sql<DocumentRow[]>`
      select ${this.sql.unsafe(COLUMNS)} from documents d where d.project_id = ${projectId} and d.id = ${id}`
    if (!doc) throw new NotFound(`no document ${id} in project ${projectId}`, "document_not_found")
    return doc
  }

  /** The original bytes, as uploaded. */
  async content(projectId: string, id: string): Promise<{ document: DocumentRow; bytes: Uint8Array }> {
    const document = await this.get(projectId, id)
    let bytes = await this.blobs.get(document.content_hash)
    if (!bytes && this.fetchBytes) {
      // Replicated from another pool: its bytes on demand from the origin (checked against the hash).
      const [{ origin }] = await this.sql`select origin from documents where id = ${id}`
      bytes = await this.fetchBytes({ id, origin, content_hash: document.content_hash })
    }
    if (!bytes) throw new CelluleError("document_bytes_missing", `the stored bytes of ${id} are gone`, 410)
    return { document, bytes }
  }

  /**
   * Erase a document: with `erase` (replication), a signed tombstone removes row, chunks and file here
   * and on every pool; without, row and chunks in one transaction, then the file unless another
   * project holds the same bytes.
   */
  async remove(projectId: string, id: string): Promise<{ id: string; content_hash: string }> {
    if (this.erase) {
      const doc = await this.get(projectId, id)
      await this.erase(projectId, id, doc.content_hash)
      return { id, content_hash: doc.content_hash }
    }
    const hash = await this.sql.begin(async (tx) => {
      const [row] =
        await tx`delete from documents where project_id = ${projectId} and id = ${id} returning content_hash`
      if (!row) throw new NotFound(`no document ${id} in project ${projectId}`, "document_not_found")
      return row.content_hash as string
    })
    await this.dropBlobIfUnused(hash)
    return { id, content_hash: hash }
  }

  async dropBlobIfUnused(hash: string): Promise<void> {
    const [used] = await this.sql`select 1 from documents where content_hash = ${hash} limit 1`
    if (!used) await this.blobs.remove(hash)
  }
}
