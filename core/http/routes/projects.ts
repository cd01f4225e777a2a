// /v1/projects — projects, their documents (upload 202, list, get, original bytes, delete), memories and
// search. Validates, resolves the caller, calls core/rag, shapes the answer. Ingest is gated by the
// rag_documents licence feature; reads and search stay open.
import { Elysia, t } from "elysia"
import { BadRequest, Forbidden } from "../../errors.ts"
import { DocumentTooLarge, type DocumentRow } from "../../rag/index.ts"
import { readLimited } from "../body.ts"
import type { PoolServices } from "../../pool/services.ts"
import { PayloadTooLarge } from "../errors.ts"
import { requireFeature } from "../license-gate.ts"
import { projectCaller } from "../project-caller.ts"

/** Uploads are read by their route (multipart, the document size limit), not by the JSON parser. */
export const DOCUMENT_UPLOAD_PATH = /^\/v1\/projects\/[^/]+\/documents\/?$/

// Multipart framing (boundaries, part headers, a title field) on top of the document itself.
const MULTIPART_OVERHEAD = 64 * 1024

const documentView = (d: DocumentRow) => ({
  id: d.id,
  project_id: d.project_id,
  title: d.title,
  content_hash: d.content_hash,
  mime_type: d.mime,
  size: d.size_bytes,
  indexed_status: d.indexed_status,
  reason: d.reason,
  chunks_count: d.chunks_count,
  progress: { chunks_embedded: d.chunks_embedded, chunks_total: d.chunks_total },
  pages: d.pages,
  embedding_model: d.embedding_model,
  embedded_by: d.embedded_by,
  created_at: d.created_at,
  indexed_at: d.indexed_at,
})

async function readUpload(request: Request, max: number): Promise<{ bytes: Uint8Array; title?: string; name: string }> {
  let raw: Uint8Array
  try {
    raw = await readLimited(request, max + MULTIPART_OVERHEAD)
  } catch (e) {
    if (e instanceof PayloadTooLarge)
      throw new DocumentTooLarge(Number(request.headers.get("content-length") ?? 0), max)
    throw e
  }
  const type = request.headers.get("content-type") ?? ""
  if (!type.toLowerCase().startsWith("multipart/form-data"))
    throw new BadRequest("upload a document as multipart/form-data with a `file` field", "multipart_required")
  const form = await new Response(raw as BodyInit, { headers: { "content-type": type } }).formData().catch(() => null)
  const file = form?.get("file")
  if (!file || typeof file === "string") throw new BadRequest("the form has no `file` part", "file_required")
  if (file.size > max) throw new DocumentTooLarge(file.size, max)
  const title = form?.get("title")
  return {
    bytes: new Uint8Array(await file.arrayBuffer()),
    title: typeof title === "string" ? title : undefined,
    name: file.name,
  }
}

/** Mounted when the pool has API keys and RAG services (MOUNT_TABLE in core/http/app.ts). */
export const projectRoutes = (s: PoolServices) => {
  const rag = s.rag!
  const keys = s.apiKeys!
  return new Elysia()
    .resolve(async ({ request, server }) => ({
      caller: new URL(request.url).pathname.startsWith("/v1/projects")
        ? await projectCaller(s, keys, request, server)
        : null,
    }))
    .post(
      "/v1/projects",
      async ({ body, caller, set }) => {
        if (caller?.kind !== "admin") throw new Forbidden("only administrators create projects", "admin_required")
        set.status = 201
        return rag.projects.create(body)
      },
      {
        body: t.Object({
          name: t.String({ minLength: 1, maxLength: 200 }),
          description: t.Optional(t.String({ maxLength: 2000 })),
        }),
      },
    )
    .get("/v1/projects", async ({ caller }) => ({ data: await rag.projects.list(caller!) }))
    .get("/v1/projects/:pid", ({ caller, params }) => rag.projects.require(caller!, params.pid))
    .patch("/v1/projects/:pid", ({ caller, params, body }) => rag.projects.update(caller!, params.pid, body), {
      body: t.Object({
        name: t.Optional(t.String({ minLength: 1, maxLength: 200 })),
        description: t.Optional(t.String({ maxLength: 2000 })),
      }),
    })
    .delete("/v1/projects/:pid", async ({ caller, params, set }) => {
      // A leaked client key must not be able to wipe a client's whole file: administrators only.
      if (caller?.kind !== "admin") throw new Forbidden("only administrators delete projects", "admin_required")
      await rag.projects.remove(caller, params.pid)
      set.status = 204
      return ""
    })
    .post("/v1/projects/:pid/documents", async ({ caller, params, request, set }) => {
      await rag.projects.require(caller!, params.pid)
      await requireFeature(s, "rag_documents")
      const upload = await readUpload(request, s.config.ragMaxDocumentBytes)
      const { document } = await rag.documents.upload(
        params.pid,
        upload.bytes,
        upload.title || upload.name || "untitled",
      )
      rag.ingestor.kick()
      set.status = 202
      return { id: document.id, content_hash: document.content_hash, indexed_status: document.indexed_status }
    })
    .get("/v1/projects/:pid/documents", async ({ caller, params }) => {
      await rag.projects.require(caller!, params.pid)
      return { data: (await rag.documents.list(params.pid)).map(documentView) }
    })
    .get("/v1/projects/:pid/documents/:id", async ({ caller, params }) => {
      await rag.projects.require(caller!, params.pid)
      return documentView(await rag.documents.get(params.pid, params.id))
    })
    .get("/v1/projects/:pid/documents/:id/content", async ({ caller, params }) => {
      await rag.projects.require(caller!, params.pid)
      const { document, bytes } = await rag.documents.content(params.pid, params.id)
      return new Response(bytes as BodyInit, {
        headers: {
          "content-type": document.mime,
          "content-disposition": `attachment; filename="${encodeURIComponent(document.title)}"`,
          "x-content-hash": document.content_hash,
        },
      })
    })
    .delete("/v1/projects/:pid/documents/:id", async ({ caller, params, set }) => {
      await rag.projects.require(caller!, params.pid)
      await rag.documents.remove(params.pid, params.id)
      set.status = 204
      return ""
    })
    .post(
      "/v1/projects/:pid/search",
      async ({ caller, params, body }) => {
        await rag.projects.require(caller!, params.pid)
        const r = await rag.search.search(params.pid, body.query, body.top_k ?? 5)
        return { object: "list", mode: r.mode, data: r.hits }
      },
      {
        body: t.Object({
          query: t.String({ minLength: 1, maxLength: 4000 }),
          top_k: t.Optional(t.Integer({ minimum: 1, maximum: 100 })),
        }),
      },
    )
    .post(
      "/v1/projects/:pid/memories",
      async ({ caller, params, body, set }) => {
        await rag.projects.require(caller!, params.pid)
        set.status = 201
        return rag.memories.add(params.pid, body.text)
      },
      { body: t.Object({ text: t.String({ minLength: 1, maxLength: 2000 }) }) },
    )
    .get("/v1/projects/:pid/memories", async ({ caller, params }) => {
      await rag.projects.require(caller!, params.pid)
      return { data: await rag.memories.list(params.pid) }
    })
    .delete("/v1/projects/:pid/memories/:id", async ({ caller, params, set }) => {
      await rag.projects.require(caller!, params.pid)
      await rag.memories.remove(params.pid, params.id)
      set.status = 204
      return ""
    })
}
