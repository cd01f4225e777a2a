// core/gateway/grounding — the policy of grounded chat: a chat completion naming a project
// (`"cellule": {"project": …}` in the body or the X-Cellule-Project header) gets the project's top
// chunks and memories in front of the conversation (core/rag/grounding.ts) and answers with citations.
// Only an API-key caller may ask, scoped like the projects API: another project's id answers 404.
// When no local worker can answer and the request goes to a bonded peer (forward-policy.ts), the
// citations travel inside the signed forwarded body and the peer puts them on its answer (the final
// chunk when streamed), so the client sees the same answer whichever pool served it.
import { Unauthorized } from "../errors.ts"
import { type Citation, ground, type Rag } from "../rag/index.ts"
import type { ChatMessage } from "../workers/protocol.ts"
import type { Who } from "./admission.ts"

/** The project a chat request names, or null when it names none. */
export function groundingProject(body: unknown, request: Request): string | null {
  const project =
    (body as { cellule?: { project?: unknown } }).cellule?.project ?? request.headers.get("x-cellule-project")
  return typeof project === "string" && project ? project : null
}

/**
 * The grounded conversation and its citations, or null when the request names no project or this
 * pool has no RAG services. A forwarded request was grounded by the pool that admitted it.
 */
export async function groundChat(
  rag: Rag | undefined,
  body: unknown,
  request: Request,
  who: Who,
  messages: ChatMessage[],
): Promise<{ messages: ChatMessage[]; citations: Citation[] } | null> {
  const project = groundingProject(body, request)
  if (!project || !rag) return null
  if (!who.key) throw new Unauthorized("grounded chat needs an API key", "api_key_required")
  await rag.projects.require({ kind: "key", project: who.key.project }, project)
  return ground(rag.search, rag.memories, project, messages)
}

/** The forwarded body's field carrying the admitting pool's citations (signed with the rest of the body). */
export const FORWARDED_CITATIONS = "cellule_citations"

/** Most citations a forwarded body may carry (grounding asks for 5). */
const MAX_FORWARDED_CITATIONS = 100

/**
 * The body to forward: the request plus the citations of its grounding; without grounding, any such
 * field a client wrote is dropped (a client must not have a peer vouch for citations it made up).
 */
export function withCitations<B extends object>(body: B, citations: Citation[] | null): B {
  return { ...body, [FORWARDED_CITATIONS]: citations ?? undefined }
}

/**
 * The citations a trusted peer sent with a forwarded grounded request, or null when it sent none. Only
 * well-formed entries are kept: the peer is trusted, but a malformed field must not break the answer.
 */
export function forwardedCitations(body: unknown): Citation[] | null {
  const raw = (body as Record<string, unknown>)[FORWARDED_CITATIONS]
  if (!Array.isArray(raw)) return null
  return raw.slice(0, MAX_FORWARDED_CITATIONS).flatMap((c): Citation[] => {
    const x = c as Record<string, unknown>
    if (typeof x?.document_id !== "string" || typeof x.title !== "string") return []
    if (typeof x.chunk !== "number" || typeof x.score !== "number") return []
    const page = typeof x.page === "number" ? x.page : null
    return [{ document_id: x.document_id, title: x.title, chunk: x.chunk, page, score: x.score }]
  })
}
