// core/gateway/grounding — the policy of grounded chat: a chat completion naming a project
// (`"cellule": {"project": …}` in the body or the X-Cellule-Project header) gets the project's top
// chunks and memories in front of the conversation (core/rag/grounding.ts) and answers with citations.
// Only an API-key caller may ask, scoped like the projects API: another project's id answers 404.
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
