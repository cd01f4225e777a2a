// core/workers/agent — the worker side: loads its engines, joins its pool over /ws, runs jobs,
// heartbeats, and reconnects with jittered backoff. Never holds cluster state beyond its config.
import { arch, cpus, platform, totalmem } from "node:os"
import { basename, join } from "node:path"
import { logger } from "../log.ts"
import { VERSION } from "../version.ts"
import { LlamaEngine } from "../inference/llama.ts"
import { Embedder } from "../inference/embedder.ts"
import { loadOrCreateIdentity } from "./identity.ts"
import { PROTOCOL_VERSION, type Activity, type ModelOffer, type PoolMessage, type WorkerMessage } from "./protocol.ts"

const log = logger("workers.agent")

export interface ModelSpec {
  id: string
  path: string
}

/** `name=path.gguf` or `path.gguf` (id = file name without .gguf). */
export function parseModelSpec(spec: string): ModelSpec {
  const eq = spec.indexOf("=")
  if (eq > 0 && !spec.slice(0, eq).includes("/")) return { id: spec.slice(0, eq), path: spec.slice(eq + 1) }
  return { id: basename(spec).replace(/\.gguf$/i, ""), path: spec }
}

export interface AgentOptions {
  poolUrl: string
  token: string
  dataDir: string
  models: ModelSpec[]
  embedderPath?: string
  threads: number
  slots: number
  contextSize: number
  gpu: "auto" | "off"
  heartbeatMs: number
  shutdownGraceMs: number
}

type State = "idle" | "loading" | "connecting" | "running" | "draining" | "stopped"

export class WorkerAgent {
  state: State = "idle"
  private engines = new Map<string, LlamaEngine>()
  private embedder?: { id: string; engine: Embedder }
  private ws?: WebSocket
  private running = new Map<string, { abort: AbortController; model: string; done: Promise<void> }>()
  private heartbeat?: ReturnType<typeof setInterval>
  private reconnectTimer?: ReturnType<typeof setTimeout>
  private attempt = 0
  private readonly identity
  private connectedOnce?: () => void
  readonly connected: Promise<void>

  constructor(private readonly opts: AgentOptions) {
    this.identity = loadOrCreateIdentity(opts.dataDir)
    this.connected = new Promise((r) => (this.connectedOnce = r))
  }

  private setState(s: State) {
    if (this.state === s) return
    log.info(`state ${this.state} → ${s}`)
    this.state = s
  }

  async start() {
    this.setState("loading")
    const nativeCacheDir = join(this.opts.dataDir, "cache", "native")
    for (const m of this.opts.models) {
      const t0 = performance.now()
      const engine = await LlamaEngine.load({
        modelPath: m.path,
        threads: this.opts.threads,
        sequences: this.opts.slots,
        contextSize: this.opts.contextSize,
        gpu: this.opts.gpu === "off" ? false : "auto",
        nativeCacheDir,
      })
      this.engines.set(m.id, engine)
      log.info(`model ${m.id} loaded in ${Math.round(performance.now() - t0)} ms (${this.opts.slots} slots, ${this.opts.threads} threads)`)
    }
    if (this.opts.embedderPath) {
      const engine = await Embedder.load({ modelDir: this.opts.embedderPath, threads: 1, nativeCacheDir })
      this.embedder = { id: basename(this.opts.embedderPath), engine }
      log.info(`embedder ${this.embedder.id} loaded (${engine.dimensions} dimensions)`)
    }
    this.connect()
  }

  private offers(): ModelOffer[] {
    const out: ModelOffer[] = [...this.engines].map(([id, e]) => ({ id, kind: "llm", slots: e.info().sequences, context: e.info().contextSize }))
    if (this.embedder) out.push({ id: this.embedder.id, kind: "embedding", slots: 1, dims: this.embedder.engine.dimensions })
    return out
  }

  private activity(): Activity {
    return "available"
  }

  private connect() {
    if (this.state === "draining" || this.state === "stopped") return
    this.setState("connecting")
    const url = this.opts.poolUrl.replace(/^http/, "ws") + "/ws"
    // Bun's WebSocket client accepts headers: the token never appears in a URL or a log line.
    const ws = new WebSocket(url, { headers: { authorization: `Bearer ${this.opts.token}` } } as unknown as string[])
    this.ws = ws
    ws.onopen = () => {
      const hello: WorkerMessage = {
        type: "hello",
        v: PROTOCOL_VERSION,
        worker_id: this.identity.worker_id,
        name: this.identity.name,
        version: VERSION,
        hardware: { os: platform(), arch: arch(), cpu_threads: cpus().length, ram_mb: Math.round(totalmem() / 2 ** 20) },
        models: this.offers(),
        activity: this.activity(),
      }
      ws.send(JSON.stringify(hello))
    }
    ws.onmessage = (ev) => this.onMessage(ws, String(ev.data))
    ws.onclose = (ev) => {
      if (this.ws !== ws) return
      this.ws = undefined
      if (this.heartbeat) clearInterval(this.heartbeat)
      // The pool re-queues what we were doing; finishing it here would only waste the machine.
      for (const job of this.running.values()) job.abort.abort()
      if (this.state === "draining" || this.state === "stopped") return
      const delay = Math.min(30_000, 500 * 2 ** this.attempt++) * (0.5 + Math.random() / 2)
      log.warn(`disconnected from ${this.opts.poolUrl} (${ev.code}${ev.reason ? ` ${ev.reason}` : ""}); retrying in ${Math.round(delay)} ms`)
      this.setState("connecting")
      this.reconnectTimer = setTimeout(() => this.connect(), delay)
    }
    ws.onerror = () => {
      // onclose follows and schedules the retry.
    }
  }

  private send(msg: WorkerMessage) {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(msg))
  }

  private onMessage(ws: WebSocket, raw: string) {
    let msg: PoolMessage
    try {
      msg = JSON.parse(raw)
    } catch {
      return log.warn("pool sent a non-JSON message")
    }
    switch (msg.type) {
      case "welcome":
        this.attempt = 0
        this.setState("running")
        log.info(`joined pool ${msg.pool_name} as ${msg.worker_id}`)
        if (this.heartbeat) clearInterval(this.heartbeat)
        this.heartbeat = setInterval(() => this.send({ type: "heartbeat", activity: this.activity(), busy: this.busy() }), msg.heartbeat_ms || this.opts.heartbeatMs)
        this.connectedOnce?.()
        return
      case "job":
        this.runJob(msg)
        return
      case "cancel":
        this.running.get(msg.job_id)?.abort.abort()
        return
      case "error":
        log.error(`pool says ${msg.code}: ${msg.message}`)
        return
      case "bye":
        log.warn(`pool is leaving: ${msg.reason}`)
        return
    }
  }

  private busy(): Record<string, number> {
    const out: Record<string, number> = {}
    for (const j of this.running.values()) out[j.model] = (out[j.model] ?? 0) + 1
    return out
  }

  private runJob(job: Extract<PoolMessage, { type: "job" }>) {
    const abort = new AbortController()
    const entry = { abort, model: job.model, done: Promise.resolve() }
    this.running.set(job.job_id, entry)
    entry.done = this.execute(job, abort.signal)
      .catch((e) => {
        log.error(`job ${job.job_id} failed: ${(e as Error).message}`)
        const status = (e as { status?: number }).status
        this.send({ type: "error", job_id: job.job_id, code: (e as { code?: string }).code ?? "inference_failed", message: (e as Error).message, status: status && status < 500 ? status : undefined })
      })
      .finally(() => this.running.delete(job.job_id))
  }

  private async execute(job: Extract<PoolMessage, { type: "job" }>, signal: AbortSignal) {
    const p = job.params
    if (job.kind === "embedding") {
      if (!this.embedder || this.embedder.id !== job.model) throw Object.assign(new Error(`no embedder ${job.model} here`), { code: "model_not_found" })
      const input = p.input ?? []
      const embeddings = await this.embedder.engine.embed(input)
      // The embedder does not report token counts; words are a close, honest stand-in for usage.
      const tokens = input.reduce((n, s) => n + (s.match(/\S+/g)?.length ?? 0), 0)
      this.send({ type: "done", job_id: job.job_id, finish_reason: "stop", usage: { prompt_tokens: tokens, completion_tokens: 0 }, embeddings })
      return
    }
    const engine = this.engines.get(job.model)
    if (!engine) throw Object.assign(new Error(`model ${job.model} is not loaded here`), { code: "model_not_found" })
    const r = await engine.generate(
      {
        messages: job.kind === "chat" ? (p.messages as { role: "system" | "user" | "assistant"; content: string }[]) : undefined,
        prompt: job.kind === "completion" ? p.prompt : undefined,
        maxTokens: p.max_tokens,
        temperature: p.temperature,
        topP: p.top_p,
        seed: p.seed,
        stop: p.stop,
        resumeTokens: p.resume_tokens,
        signal,
      },
      (text, ids) => this.send({ type: "token", job_id: job.job_id, text, ids }),
    )
    this.send({ type: "done", job_id: job.job_id, finish_reason: r.finishReason, usage: { prompt_tokens: r.usage.promptTokens, completion_tokens: r.usage.completionTokens } })
  }

  /** Stop taking jobs, let running ones finish (up to the grace period), leave, free the engines. */
  async stop() {
    if (this.state === "stopped") return
    this.setState("draining")
    clearTimeout(this.reconnectTimer)
    const deadline = Date.now() + this.opts.shutdownGraceMs
    while (this.running.size && Date.now() < deadline) await Bun.sleep(50)
    for (const j of this.running.values()) j.abort.abort()
    await Promise.all([...this.running.values()].map((j) => j.done))
    if (this.heartbeat) clearInterval(this.heartbeat)
    this.send({ type: "bye", reason: "worker stopping" })
    this.ws?.close(1000, "worker stopping")
    this.ws = undefined
    for (const e of this.engines.values()) await e.dispose()
    await this.embedder?.engine.dispose()
    this.setState("stopped")
  }
}
