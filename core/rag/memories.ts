// core/rag/memories — a project's memories: short facts grounded chat always sees. Replicated as
// the federation kind "memory_fact" (the text; each pool embeds on its own workers when it can).
import { randomBytes } from "node:crypto"
import type { Sql } from "../db/client.ts"
import { NotFound } from "../errors.ts"
import { logger } from "../log.ts"
import type { EmbeddingService } from "./embed.ts"
import type { Publish } from "./projects.ts"

const log = logger("rag")

export interface MemoryRow {
  id: string
  project_id: string
  text: string
  origin: string
  created_at: Date
}

export class Memories {
  constructor(
    private readonly sql: Sql,
    private readonly embeddings: EmbeddingService,
    private readonly publish: Publish,
  ) {}

  async add(projectId: string, text: string): Promise<MemoryRow> {
    const id = `mem_${randomBytes(12).toString("hex")}`
    await this.publish("memory_fact", { id, project_id: projectId, text })
    const model = this.embeddings.model()
    if (model) {
      // Best effort: a memory without a vector is still used (grounded chat takes them by recency).
      await this.embeddings
        .embed(model, [text], "interactive")
        .then(
          (r) =>
            this.sql`update memories set embedding = ${`[${r.vectors[0].join(",")}]`}, embedded_by = ${r.workerId}
                   where id = ${id}`,
        )
        .catch((e) => log.warn(`memory ${id} not embedded: ${(e as Error).message}`))
    }
    return this.get(projectId, id)
  }

  async list(projectId: string, limit = 200): Promise<MemoryRow[]> {
    return await this.sql<MemoryRow[]>`
      select id, project_id, text, origin, created_at from memories where project_id = ${projectId}
      order by created_at desc, id limit ${limit}`
  }

  async get(projectId: string, id: string): Promise<MemoryRow> {
    const [m] = await this.sql<MemoryRow[]>`
      select id, project_id, text, origin, created_at from memories where project_id = ${projectId} and id = ${id}`
    if (!m) throw new NotFound(`no memory ${id} in project ${projectId}`, "memory_not_found")
    return m
  }

  async remove(projectId: string, id: string): Promise<void> {
    await this.get(projectId, id)
    await this.publish("memory_fact", { id, project_id: projectId, deleted: true })
  }
}
