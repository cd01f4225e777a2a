// Replicated kinds of a project's documents (core/rag/replicate.ts publishes them once a document is
// indexed): "document" (the row: metadata and content hash, arriving already done, origin recorded),
// "document_chunks" (a batch of chunks with their vectors and the embedding model; idempotent on
// (document id, chunk index)) and "document_tombstone" (an erasure: ids and hash only, no content).
// A tombstone is checked on every apply, so a late or replayed copy never resurrects a document.
import type { Sql, Tx } from "../../db/client.ts"
import { CelluleError } from "../../errors.ts"
import type { ReplicatedKind, Stamp } from "./index.ts"

const DOC_ID = /^doc_[0-9a-f]{8,40}$/
const PRJ_ID = /^prj_[0-9a-z]{8,40}$/
const HASH = /^[0-9a-f]{64}$/
/** The vector width of the chunks table (sql/0015_rag.sql). */
const DIM = 384
/** Chunks per envelope at most (the publisher also keeps each envelope under a byte budget). */
export const MAX_CHUNKS_PER_ENVELOPE = 64

const bad = (msg: string) => new CelluleError("payload_invalid", msg, 400)
const str = (v: unknown, max: number, what: string) => {
  if (typeof v !== "string" || v.length > max) throw bad(`${what} must be a string of at most ${max} characters`)
  return v
}
const int = (v: unknown, what: string, nullable = false): number | null => {
  if (nullable && (v === null || v === undefined)) return null
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) throw bad(`${what} must be a non-negative integer`)
  return v
}
const ids = (p: Record<string, unknown>) => {
  if (typeof p.project_id !== "string" || !PRJ_ID.test(p.project_id)) throw bad("project_id must look like prj_<id>")
  return p.project_id
}

/** Whether a document (or its project) was erased on this pool: nothing of it may be applied again. */
async function erased(sql: Sql | Tx, documentId: string, projectId: string): Promise<boolean> {
  const [t] = await sql`select 1 from rag_tombstones where id = ${documentId} or id = ${projectId} limit 1`
  return !!t
}

/** The kinds whose logged payloads carry a document's or a project's content (text, vectors, facts). */
export const REDACTABLE_KINDS = ["document", "document_chunks", "memory_fact"] as const

/**
 * Redact in federation_log the envelopes about erased documents (and, for an erased project, its
 * memories too): the payload becomes ids plus the SHA-256 of what it was; order and signature stay
 * (sql/0021_rag_log_redaction.sql). Anti-entropy then serves the stub, never the content again.
 */
export async function redactLog(sql: Sql | Tx, documentIds: string[], projectId: string | null): Promise<number> {
  const rows = await sql`
    update federation_log set redacted_at = now(), payload = jsonb_strip_nulls(jsonb_build_object(
      'redacted', true,
      'id', payload->>'id',
      'document_id', payload->>'document_id',
      'project_id', payload->>'project_id',
      'sha256', encode(sha256(convert_to(payload::text, 'UTF8')), 'hex')))
    where redacted_at is null and kind in ('document', 'document_chunks', 'memory_fact')
      and (payload->>'id' = any(${documentIds}) or payload->>'document_id' = any(${documentIds})
           or payload->>'project_id' = ${projectId})
    returning seq`
  return rows.length
}

/** A redacted envelope as served to peers: ids and hash only (checked before it is logged, unverifiable). */
export function parseRedacted(kind: string, payload: unknown): Record<string, string | boolean> {
  const p = payload as Record<string, unknown> | null
  if (!(REDACTABLE_KINDS as readonly string[]).includes(kind)) throw bad(`a ${kind} envelope is never redacted`)
  if (!p || typeof p !== "object" || p.redacted !== true) throw bad("a redacted payload says redacted: true")
  if (typeof p.sha256 !== "string" || !HASH.test(p.sha256)) throw bad("a redacted payload keeps a SHA-256")
  const out: Record<string, string | boolean> = { redacted: true, sha256: p.sha256, project_id: ids(p) }
  for (const k of ["id", "document_id"]) if (p[k] !== undefined) out[k] = str(p[k], 60, k)
  if (Object.keys(p).some((k) => !(k in out))) throw bad("a redacted payload holds ids and a hash only")
  return out
}

/** After a losing apply of a document's envelope: erased here, so the logged copy is redacted at once. */
async function redactIfErased(sql: Sql | Tx, documentId: string, projectId: string) {
  if (await erased(sql, documentId, projectId)) await redactLog(sql, [documentId], null)
}

export interface DocumentPayload {
  id: string
  project_id: string
  title: string
  content_hash: string
  mime: string
  size_bytes: number
  pages: number | null
  embedding_model: string
  chunks_total: number
}

export const documentReplica: ReplicatedKind<DocumentPayload> = {
  kind: "document",
  parse(payload) {
    const p = payload as Record<string, unknown> | null
    if (!p || typeof p !== "object") throw bad("document payload must be an object")
    if (typeof p.id !== "string" || !DOC_ID.test(p.id)) throw bad("document id must look like doc_<hex>")
    if (typeof p.content_hash !== "string" || !HASH.test(p.content_hash)) throw bad("content_hash must be a SHA-256")
    return {
      id: p.id,
      project_id: ids(p),
      title: str(p.title, 500, "title"),
      content_hash: p.content_hash,
      mime: str(p.mime, 200, "mime"),
      size_bytes: int(p.size_bytes, "size_bytes")!,
      pages: int(p.pages, "pages", true),
      embedding_model: str(p.embedding_model, 200, "embedding_model"),
      chunks_total: int(p.chunks_total, "chunks_total")!,
    }
  },
  async apply(sql: Sql | Tx, p, s: Stamp) {
    if (await erased(sql, p.id, p.project_id)) return false
    // A document of a project this pool does not have (yet, or any more) is dropped, as memories are.
    const rows = await sql`
      insert into documents (id, project_id, title, content_hash, mime, size_bytes, indexed_status, chunks_total,
                             chunks_embedded, pages, embedding_model, origin, indexed_at)
      select ${p.id}, ${p.project_id}, ${p.title}, ${p.content_hash}, ${p.mime}, ${p.size_bytes}, 'done',
             ${p.chunks_total}, ${p.chunks_total}, ${p.pages}, ${p.embedding_model}, ${s.origin}, now()
      where exists (select 1 from projects where id = ${p.project_id})
      on conflict do nothing
      returning id`
    return rows.length > 0
  },
  afterLog: (sql, p) => redactIfErased(sql, p.id, p.project_id),
}

export interface ChunkReplica {
  idx: number
  text: string
  char_start: number
  char_end: number
  page: number | null
  token_count: number
  embedding: number[]
  embedded_by: string
}

export interface DocumentChunksPayload {
  document_id: string
  project_id: string
  embedding_model: string
  chunks: ChunkReplica[]
}

export const documentChunks: ReplicatedKind<DocumentChunksPayload> = {
  kind: "document_chunks",
  parse(payload) {
    const p = payload as Record<string, unknown> | null
    if (!p || typeof p !== "object") throw bad("document_chunks payload must be an object")
    if (typeof p.document_id !== "string" || !DOC_ID.test(p.document_id))
      throw bad("document_id must look like doc_<hex>")
    if (!Array.isArray(p.chunks) || !p.chunks.length || p.chunks.length > MAX_CHUNKS_PER_ENVELOPE)
      throw bad(`chunks must hold 1-${MAX_CHUNKS_PER_ENVELOPE} chunks`)
    const chunks = p.chunks.map((c: Record<string, unknown>) => {
      if (!c || typeof c !== "object") throw bad("a chunk must be an object")
      const e = c.embedding
      if (!Array.isArray(e) || e.length !== DIM || !e.every((x) => typeof x === "number" && Number.isFinite(x)))
        throw bad(`a chunk's embedding must be ${DIM} finite numbers`)
      const start = int(c.char_start, "char_start")!
      const end = int(c.char_end, "char_end")!
      if (end < start) throw bad("char_end must not precede char_start")
      return {
        idx: int(c.idx, "idx")!,
        text: str(c.text, 100_000, "text"),
        char_start: start,
        char_end: end,
        page: int(c.page, "page", true),
        token_count: int(c.token_count, "token_count")!,
        embedding: e as number[],
        embedded_by: str(c.embedded_by, 200, "embedded_by"),
      }
    })
    return {
      document_id: p.document_id,
      project_id: ids(p),
      embedding_model: str(p.embedding_model, 200, "embedding_model"),
      chunks,
    }
  },
  async apply(sql: Sql | Tx, p, _s: Stamp) {
    if (await erased(sql, p.document_id, p.project_id)) return false
    // Only onto this document as replicated (same model): a local re-index of the same id is not overwritten.
    const [doc] = await sql`select 1 from documents where id = ${p.document_id} and project_id = ${p.project_id}
                              and embedding_model = ${p.embedding_model}`
    if (!doc) return false
    const rows = p.chunks.map((c) => ({
      document_id: p.document_id,
      project_id: p.project_id,
      idx: c.idx,
      text: c.text,
      char_start: c.char_start,
      char_end: c.char_end,
      page: c.page,
      token_count: c.token_count,
      embedding: `[${c.embedding.join(",")}]`,
      embedded_by: c.embedded_by,
    }))
    const ins = await sql`insert into chunks ${sql(rows)} on conflict (document_id, idx) do nothing returning idx`
    return ins.length > 0
  },
  afterLog: (sql, p) => redactIfErased(sql, p.document_id, p.project_id),
}

export interface DocumentTombstonePayload {
  /** "document": one document; "project": the project and every document it held. */
  what: "document" | "project"
  project_id: string
  /** The erased documents: ids and content hashes, nothing else. */
  documents: { id: string; content_hash: string }[]
}

export const documentTombstone: ReplicatedKind<DocumentTombstonePayload> = {
  kind: "document_tombstone",
  parse(payload) {
    const p = payload as Record<string, unknown> | null
    if (!p || typeof p !== "object") throw bad("document_tombstone payload must be an object")
    if (p.what !== "document" && p.what !== "project") throw bad('what must be "document" or "project"')
    if (!Array.isArray(p.documents) || p.documents.length > 100_000) throw bad("documents must be a list")
    const documents = p.documents.map((d: Record<string, unknown>) => {
      if (!d || typeof d.id !== "string" || !DOC_ID.test(d.id)) throw bad("a document id must look like doc_<hex>")
      if (typeof d.content_hash !== "string" || !HASH.test(d.content_hash)) throw bad("content_hash must be a SHA-256")
      return { id: d.id, content_hash: d.content_hash }
    })
    if (p.what === "document" && documents.length !== 1) throw bad("a document tombstone names one document")
    return { what: p.what, project_id: ids(p), documents }
  },
  async apply(sql: Sql | Tx, p, s: Stamp) {
    const tombstone = (id: string, what: "document" | "project", contentHash: string | null) => ({
      id,
      what,
      project_id: p.project_id,
      content_hash: contentHash,
      hlc: s.hlc,
      origin: s.origin,
    })
    const rows = p.documents.map((d) => tombstone(d.id, "document", d.content_hash))
    if (p.what === "project") rows.push(tombstone(p.project_id, "project", null))
    // Documents this pool holds in the project that the sender had not seen yet go too (by project).
    const local = await sql`
      delete from documents where ${p.what === "project"} and project_id = ${p.project_id} returning id, content_hash`
    for (const d of local) if (!rows.some((r) => r.id === d.id)) rows.push(tombstone(d.id, "document", d.content_hash))
    // Chunks go with their document (on delete cascade); the file is removed by the sweeper (bytes_erased).
    await sql`delete from documents where id = any(${p.documents.map((d) => d.id)})`
    if (p.what === "project") await sql`delete from projects where id = ${p.project_id}`
    for (let i = 0; i < rows.length; i += 500)
      await sql`insert into rag_tombstones ${sql(rows.slice(i, i + 500))} on conflict (id) do nothing`
    // Nor may the log keep their text: earlier envelopes about them are redacted on this pool.
    await redactLog(
      sql,
      rows.filter((r) => r.what === "document").map((r) => r.id),
      p.what === "project" ? p.project_id : null,
    )
    return true
  },
}
