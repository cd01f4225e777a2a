// /v1/projects — projects, their documents (upload 202, list, get, original bytes, delete), memories and
// search. Validates, resolves the caller, calls core/rag, shapes the answer. Ingest is gated by the
// rag_documents licence feature; reads and search stay open. Every project change and every document
// upload, read, search and deletion goes through the audit trail (the grade decides what is kept).
import { Elysia, t } from "elysia"
import { BadRequest, Forbidden } from "../../errors.ts"
import { DocumentTooLarge, type DocumentRow, scopedCannotCreate } from "../../rag/index.ts"
import { readLimited } from "../body.ts"
import type { PoolServices } from "../../pool/services.ts"
import { type AuditedAction, audited } from "../audit-trail.ts"
import { PayloadTooLarge } from "../errors.ts"
import { requireFeature } from "../license-gate.ts"
import { type AuditedCaller, projectCaller } from "../project-caller.ts"
import type { Srv } from "../session.ts"

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
  type Ctx = { caller: AuditedCaller | null; request: Request; server: Srv }
  const trail = <T>(
    c: Ctx,
    what: AuditedAction,
    run: () => Promise<T>,
    fromResult?: (r: T) => Partial<AuditedAction>,
  ) => audited(s, { actor: c.caller!.actor, request: c.request, server: c.server }, what, run, fromResult)
  return new Elysia()
    .resolve(async ({ request, server }) => ({
      caller: new URL(request.url).pathname.startsWith("/v1/projects")
        ? await projectCaller(s, keys, request, server)
        : null,
    }))
    .post(
      "/v1/projects",
      async (c) => {
        const created = await trail(
          c,
          { action: "project.create", details: { name: c.body.name } },
          async () => {
            if (c.caller?.kind !== "admin") throw new Forbidden("only administrators create projects", "admin_required")
            if (c.caller.projects) throw scopedCannotCreate()
            return rag.projects.create(c.body)
          },
          (p) => ({ target: `project:${p.id}`, project: p.id }),
        )
        c.set.status = 201
        return created
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
    .patch(
      "/v1/projects/:pid",
      (c) =>
        trail(
          c,
          { action: "project.update", target: `project:${c.params.pid}`, project: c.params.pid, details: c.body },
          () => rag.projects.update(c.caller!, c.params.pid, c.body),
        ),
      {
        body: t.Object({
          name: t.Optional(t.String({ minLength: 1, maxLength: 200 })),
          description: t.Optional(t.String({ maxLength: 2000 })),
        }),
      },
    )
    .delete("/v1/projects/:pid", async (c) => {
      const { pid } = c.params
      await trail(c, { action: "project.delete", target: `project:${pid}`, project: pid }, async () => {
        // A leaked client key must not be able to wipe a client's whole file: administrators only.
        if (c.caller?.kind !== "admin") throw new Forbidden("only administrators delete projects", "admin_required")
        await rag.projects.remove(c.caller, pid)
      })
      c.set.status = 204
      return ""
    })
    .post("/v1/projects/:pid/documents", async (c) => {
      const { pid } = c.params
      const { document } = await trail(
        c,
        { action: "document.upload", project: pid },
        async () => {
          await rag.projects.require(c.caller!, pid)
          await requireFeature(s, "rag_documents")
          const upload = await readUpload(c.request, s.config.ragMaxDocumentBytes)
          return rag.documents.upload(pid, upload.bytes, upload.title || upload.name || "untitled")
        },
        ({ document: d }) => ({
          target: `document:${d.id}`,
          details: { title: d.title, bytes: d.size_bytes, content_hash: d.content_hash },
        }),
      )
      rag.ingestor.kick()
      c.set.status = 202
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
    .get("/v1/projects/:pid/documents/:id/content", async (c) => {
      const { pid, id } = c.params
      const { document, bytes } = await trail(
        c,
        { action: "document.read", target: `document:${id}`, project: pid },
        async () => {
          await rag.projects.require(c.caller!, pid)
          return rag.documents.content(pid, id)
        },
      )
      return new Response(bytes as BodyInit, {
        headers: {
          "content-type": document.mime,
          "content-disposition": `attachment; filename="${encodeURIComponent(document.title)}"`,
          "x-content-hash": document.content_hash,
        },
      })
    })
    .delete("/v1/projects/:pid/documents/:id", async (c) => {
      const { pid, id } = c.params
      await trail(c, { action: "document.delete", target: `document:${id}`, project: pid }, async () => {
        await rag.projects.require(c.caller!, pid)
        await rag.documents.remove(pid, id)
      })
      c.set.status = 204
      return ""
    })
    .post(
      "/v1/projects/:pid/search",
      async (c) => {
        const { pid } = c.params
        const top = c.body.top_k ?? 5
        // the query itself is client content: only its size is kept
        const r = await trail(
          c,
          { action: "document.search", project: pid, details: { top_k: top, query_chars: c.body.query.length } },
          async () => {
            await rag.projects.require(c.caller!, pid)
            return rag.search.search(pid, c.body.query, top)
          },
          (res) => ({ details: { mode: res.mode, hits: res.hits.length } }),
        )
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
