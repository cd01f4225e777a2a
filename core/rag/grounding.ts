// core/rag/grounding — grounded chat: the project's best chunks for the user's last question and
// its memories go in front of the conversation as a system message; the answer carries citations.
import type { ChatMessage } from "../workers/protocol.ts"
import type { Memories } from "./memories.ts"
import type { Search } from "./search.ts"

export interface Citation {
  document_id: string
  title: string
  chunk: number
  page: number | null
  score: number
}

const INSTRUCTIONS = `Answer from the project's documents and memories below when they are relevant. Refer to excerpts as [1], [2]…; if they do not contain the answer, say so rather than guessing.`

export async function ground(
  search: Search,
  memories: Memories,
  projectId: string,
  messages: ChatMessage[],
  topK = 5,
): Promise<{ messages: ChatMessage[]; citations: Citation[] }> {
  const question =
    [...messages]
      .reverse()
      .find((m) => m.role === "user")
      ?.content.trim() ?? ""
  const hits = question ? (await search.search(projectId, question.slice(0, 4000), topK)).hits : []
  const facts = await memories.list(projectId, 20)
  const parts = [INSTRUCTIONS]
  if (facts.length) parts.push(`Memories:\n${facts.map((f) => `- ${f.text}`).join("\n")}`)
  if (hits.length)
    parts.push(
      `Excerpts:\n${hits
        .map((h, i) => `[${i + 1}] ${h.title}${h.page ? ` (page ${h.page})` : ""}:\n${h.chunk}`)
        .join("\n\n")}`,
    )
  return {
    messages: [{ role: "system", content: parts.join("\n\n") }, ...messages],
    citations: hits.map((h) => ({
      document_id: h.document_id,
      title: h.title,
      chunk: h.chunk_index,
      page: h.page,
      score: h.score,
    })),
  }
}
