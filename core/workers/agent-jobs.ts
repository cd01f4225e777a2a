// core/workers/agent-jobs — the jobs a worker runs for its pool: generation and embeddings on the
// loaded engines, streamed back as coalesced token frames. Knows the pool only through `send`.
import { WorkerMetrics } from "../metrics/worker.ts"
import type { Embedder } from "../inference/embedder.ts"
import type { LlamaEngine } from "../inference/llama.ts"
import { logger } from "../log.ts"
import type { PoolMessage, WorkerMessage } from "./protocol.ts"

const log = logger("workers.agent")

type Job = Extract<PoolMessage, { type: "job" }>

export interface AgentEngines {
  llm: Map<string, LlamaEngine>
  embedder?: { id: string; engine: Embedder }
}

export class AgentJobs {
  private running = new Map<string, { abort: AbortController; model: string; done: Promise<void> }>()
  readonly metrics = new WorkerMetrics()

  constructor(
    private readonly engines: AgentEngines,
    private readonly send: (msg: WorkerMessage) => void,
  ) {}

  get size() {
    return this.running.size
  }

  /** Jobs in flight per model, as the heartbeat reports them. */
  busy(): Record<string, number> {
    const out: Record<string, number> = {}
    for (const j of this.running.values()) out[j.model] = (out[j.model] ?? 0) + 1
    return out
  }

  /** Set while the engines are being reloaded: jobs that arrive wait for it instead of failing. */
  private gate: Promise<void> | undefined

  /**
   * Run `fn` (reload the engines) once the jobs running now are done; jobs that arrive meanwhile wait
   * and run on the new engines. No job is dropped or refused.
   */
  async exclusive(fn: () => Promise<void>) {
    while (this.gate) await this.gate
    let open!: () => void
    this.gate = new Promise<void>((r) => (open = r))
    try {
      await Promise.all([...this.running.values()].map((j) => j.done))
      await fn()
    } finally {
      this.gate = undefined
      open()
    }
  }

  run(job: Job) {
    const abort = new AbortController()
    const entry = { abort, model: job.model, done: Promise.resolve() }
    this.running.set(job.job_id, entry)
    const gate = this.gate
    entry.done = (gate ? gate.then(() => this.execute(job, abort.signal)) : this.execute(job, abort.signal))
      .then(() => this.metrics.jobs.inc({ kind: job.kind, outcome: "ok" }))
      .catch((e) => {
        this.metrics.jobs.inc({ kind: job.kind, outcome: "error" })
        log.error(`job ${job.job_id} failed: ${(e as Error).message}`)
        const status = (e as { status?: number }).status
        this.send({
          type: "error",
          job_id: job.job_id,
          code: (e as { code?: string }).code ?? "inference_failed",
          message: (e as Error).message,
          status: status && status < 500 ? status : undefined,
        })
      })
      .finally(() => this.running.delete(job.job_id))
  }

  cancel(jobId: string) {
    this.running.get(jobId)?.abort.abort()
  }

  /** The pool we lose re-queues these; finishing them here would only waste the machine. */
  abortAll() {
    for (const job of this.running.values()) job.abort.abort()
  }

  /** Let running jobs finish until `deadline` (epoch ms), then abort the rest and wait for them. */
  async drain(deadline: number) {
    while (this.running.size && Date.now() < deadline) await Bun.sleep(50)
    this.abortAll()
    await Promise.all([...this.running.values()].map((j) => j.done))
  }

  private async execute(job: Job, signal: AbortSignal) {
    const p = job.params
    if (job.kind === "embedding") {
      const embedder = this.engines.embedder
      if (!embedder || embedder.id !== job.model)
        throw Object.assign(new Error(`no embedder ${job.model} here`), { code: "model_not_found" })
      const input = p.input ?? []
      if (p.count_tokens) {
        // RAG chunking asks for counts only: the pool never loads a tokenizer.
        const counts = embedder.engine.countTokens(input)
        this.send({
          type: "done",
          job_id: job.job_id,
          finish_reason: "stop",
          usage: { prompt_tokens: counts.reduce((a, b) => a + b, 0), completion_tokens: 0 },
          token_counts: counts,
        })
        return
      }
      // Usage is what the model read: the tokenizer's count, special tokens included (not words).
      const { vectors: embeddings, tokens } = await embedder.engine.embedWithUsage(input)
      this.send({
        type: "done",
        job_id: job.job_id,
        finish_reason: "stop",
        usage: { prompt_tokens: tokens, completion_tokens: 0 },
        embeddings,
      })
      return
    }
    const engine = this.engines.llm.get(job.model)
    if (!engine) throw Object.assign(new Error(`model ${job.model} is not loaded here`), { code: "model_not_found" })
    const out = new TokenCoalescer((text, ids) => this.send({ type: "token", job_id: job.job_id, text, ids }))
    const started = performance.now()
    let first = true
    const r = await engine.generate(
      {
        messages:
          job.kind === "chat"
            ? (p.messages as { role: "system" | "user" | "assistant"; content: string }[])
            : undefined,
        prompt: job.kind === "completion" ? p.prompt : undefined,
        maxTokens: p.max_tokens,
        temperature: p.temperature,
        topP: p.top_p,
        seed: p.seed,
        stop: p.stop,
        resumeTokens: p.resume_tokens,
        signal,
      },
      (text, ids) => {
        if (first) {
          first = false
          this.metrics.ttft.observe((performance.now() - started) / 1000)
        }
        out.push(text, ids)
      },
    )
    out.flush()
    this.metrics.tokens.inc({ model: job.model }, r.usage.completionTokens)
    this.send({
      type: "done",
      job_id: job.job_id,
      finish_reason: r.finishReason,
      usage: { prompt_tokens: r.usage.promptTokens, completion_tokens: r.usage.completionTokens },
    })
  }
}

/**
 * Token frames to the pool: the first piece goes out at once (time to first token is untouched);
 * pieces that follow within 5 ms ride together. A small model makes thousands of tokens a second,
 * and one frame each would cost the pool more than the generation costs the worker.
 */
export class TokenCoalescer {
  private text = ""
  private ids: number[] = []
  private last = 0
  private timer?: ReturnType<typeof setTimeout>

  constructor(
    private readonly emit: (text: string, ids: number[]) => void,
    private readonly windowMs = 5,
  ) {}

  push(text: string, ids: number[]) {
    this.text += text
    this.ids.push(...ids)
    const wait = this.last + this.windowMs - performance.now()
    if (wait <= 0) this.flush()
    else this.timer ??= setTimeout(() => this.flush(), wait)
  }

  flush() {
    clearTimeout(this.timer)
    this.timer = undefined
    if (!this.text && !this.ids.length) return
    this.last = performance.now()
    const [text, ids] = [this.text, this.ids]
    this.text = ""
    this.ids = []
    this.emit(text, ids)
  }
}
