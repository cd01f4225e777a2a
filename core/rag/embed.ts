// core/rag/embed — embeddings and token counts for RAG, computed on workers only: jobs go through
// the same Scheduler path as /v1/embeddings (least loaded worker, available before throttled, never
// busy). The pool never loads an embedding model or a tokenizer.
import type { JobResult, Scheduler } from "../scheduler/scheduler.ts"
import type { JobParams } from "../workers/protocol.ts"
import type { Priority } from "../scheduler/fair-queue.ts"
import { CelluleError } from "../errors.ts"

/** The vector width the chunks table holds (MiniLM-L6-v2, the guide's embedder). */
export const RAG_DIMENSIONS = 384

export interface EmbedResult {
  vectors: number[][]
  workerId: string
}

/** What ingest and search need from the workers; a typed seam so domain tests can count calls. */
export interface EmbeddingService {
  /** The embedding model to use now: the configured one if live, else the first live one by id; null if none. */
  model(): string | null
  /** Embedding jobs this model can run at once across live workers. */
  slots(model: string): number
  countTokens(model: string, texts: string[]): Promise<number[]>
  embed(model: string, texts: string[], priority: Priority): Promise<EmbedResult>
}

export class WorkerEmbeddings implements EmbeddingService {
  constructor(
    private readonly scheduler: Scheduler,
    private readonly preferred?: string,
  ) {}

  model(): string | null {
    const live = this.scheduler
      .liveModels()
      .filter((m) => m.kind === "embedding")
      .map((m) => m.id)
      .sort()
    if (this.preferred) return live.includes(this.preferred) ? this.preferred : null
    return live[0] ?? null
  }

  slots(model: string): number {
    return this.scheduler.capacity(model).slots
  }

  async countTokens(model: string, texts: string[]): Promise<number[]> {
    const r = await this.run(model, { input: texts, count_tokens: true }, "batch")
    if (!r.tokenCounts || r.tokenCounts.length !== texts.length)
      throw new CelluleError(
        "embedder_cannot_count",
        `worker ${r.workerId} did not count tokens (an older worker?)`,
        502,
      )
    return r.tokenCounts
  }

  async embed(model: string, texts: string[], priority: Priority): Promise<EmbedResult> {
    const r = await this.run(model, { input: texts }, priority)
    const vectors = r.embeddings ?? []
    if (vectors.length !== texts.length)
      throw new CelluleError(
        "embed_failed",
        `worker ${r.workerId} returned ${vectors.length} vectors for ${texts.length} texts`,
        502,
      )
    const bad = vectors.find((v) => v.length !== RAG_DIMENSIONS)
    if (bad)
      throw new CelluleError(
        "embedder_dimensions",
        `model ${model} gives ${bad.length}-dimension vectors; documents need ${RAG_DIMENSIONS} (MiniLM-L6-v2)`,
        502,
      )
    return { vectors, workerId: r.workerId }
  }

  private run(model: string, params: JobParams, priority: Priority): Promise<JobResult> {
    return new Promise((resolve, reject) => {
      try {
        this.scheduler.submit(
          model,
          "embedding",
          params,
          { onToken: () => {}, onDone: resolve, onError: reject, onRetry: () => {} },
          { client: "cellule:rag", priority },
        )
      } catch (e) {
        reject(e)
      }
    })
  }
}
