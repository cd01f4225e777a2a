// core/workers/agent — the worker side: loads its engines, joins its pool over /ws, runs jobs,
// heartbeats, and reconnects with jittered backoff. Never holds cluster state beyond its config.
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { basename, join } from "node:path"
import { logger } from "../log.ts"
import { VERSION } from "../version.ts"
import { LlamaEngine } from "../inference/llama.ts"
import { Embedder } from "../inference/embedder.ts"
import { loadOrCreateIdentity } from "./identity.ts"
import {
  PROTOCOL_VERSION,
  type Activity,
  type ActivityPolicyMessage,
  type HardwareClass,
  type ModelOffer,
  type PoolMessage,
  type UpgradeOffer,
  type WorkerEvent,
  type WorkerMessage,
} from "./protocol.ts"
import { detectHardware } from "./hardware.ts"
import { ActivityMonitor, parseWorkingHours, type ActivityProbe } from "./activity.ts"
import { FailoverPolicy } from "./failover.ts"
import { systemClock, type Clock } from "../clock.ts"

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
  hardwareClass?: HardwareClass
  /** Display name (the enrolled one); default: the host name kept in worker.json. */
  name?: string
  /** §4.6.1 hysteresis towards the primary pool (poolUrl); absent: retry the primary forever. */
  failover?: {
    mode: "auto" | "manual"
    failingMs: number
    downMs: number
    retryMs: number
    stickyMs: number
    failsafeMs: number
  }
  /** Host activity watch; absent: always available. */
  activity?: { probe: ActivityProbe; throttledPct: number; busyPct: number; intervalMs: number }
  /** Called with a self_update offer; resolve to restart (the binary was swapped), reject to stay. */
  onSelfUpdate?: (offer: UpgradeOffer, poolUrl: string) => Promise<void>
  clock?: Clock
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
  /** The pool this agent is talking to: the primary (opts.poolUrl) or a bonded peer after failover. */
  url: string
  private peers: string[] = []
  private events: WorkerEvent[] = []
  private failover?: FailoverPolicy
  private failoverTimer?: ReturnType<typeof setInterval>
  private stickyTimer?: ReturnType<typeof setInterval>
  private monitor?: ActivityMonitor
  private upgrading = false
  private stickyWaits = 0
  private restartWanted?: (reason: string) => void
  /** Resolves when the agent wants its process restarted (a self-update was installed). */
  readonly restart: Promise<string>

  constructor(private readonly opts: AgentOptions) {
    this.identity = loadOrCreateIdentity(opts.dataDir)
    this.connected = new Promise((r) => (this.connectedOnce = r))
    this.restart = new Promise((r) => (this.restartWanted = r))
    this.url = opts.poolUrl
    // The last peers the primary named: a worker restarted while its primary is down can still fail over.
    try {
      const saved = JSON.parse(readFileSync(join(opts.dataDir, "peers.json"), "utf8")) as {
        primary: string
        peers: string[]
      }
      if (saved.primary === opts.poolUrl && Array.isArray(saved.peers))
        this.peers = saved.peers.filter((u) => typeof u === "string")
    } catch {
      // none saved yet
    }
    const clock = opts.clock ?? systemClock
    if (opts.failover) {
      this.failover = new FailoverPolicy({
        clock,
        ...opts.failover,
        onTransition: (from, to, detail) =>
          this.audit(`failover_${to.toLowerCase()}`, { from, primary: opts.poolUrl, ...detail }),
      })
    }
    if (opts.activity) {
      this.monitor = new ActivityMonitor({
        ...opts.activity,
        now: () => clock.now(),
        // Tell the pool at once: a busy host must stop getting jobs now, not at the next heartbeat.
        onChange: (activity) =>
          this.send({ type: "heartbeat", activity, busy: this.busy(), events: this.drainEvents() }),
      })
    }
  }

  /** Record a lifecycle event: log line, local audit file, and the pool's audit log on next contact. */
  audit(event: string, detail: Record<string, unknown> = {}) {
    const e: WorkerEvent = { at: (this.opts.clock ?? systemClock).now(), event, detail }
    log.info(`${event} ${JSON.stringify(detail)}`)
    this.events.push(e)
    if (this.events.length > 500) this.events.shift()
    try {
      mkdirSync(this.opts.dataDir, { recursive: true })
      appendFileSync(join(this.opts.dataDir, "audit.jsonl"), JSON.stringify(e) + "\n")
    } catch (err) {
      log.warn(`could not write the local audit log: ${(err as Error).message}`)
    }
  }

  private drainEvents(): WorkerEvent[] | undefined {
    if (!this.events.length) return undefined
    return this.events.splice(0)
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
      log.info(
        `model ${m.id} loaded in ${Math.round(performance.now() - t0)} ms (${this.opts.slots} slots, ${this.opts.threads} threads)`,
      )
    }
    if (this.opts.embedderPath) {
      const engine = await Embedder.load({ modelDir: this.opts.embedderPath, threads: 1, nativeCacheDir })
      this.embedder = { id: basename(this.opts.embedderPath), engine }
      log.info(`embedder ${this.embedder.id} loaded (${engine.dimensions} dimensions)`)
    }
    this.monitor?.start()
    if (this.failover) {
      const f = this.opts.failover!
      this.failoverTimer = setInterval(
        () => this.checkFailover(),
        Math.max(20, Math.min(1000, f.failingMs / 4, f.downMs / 4)),
      )
    }
    this.connect()
  }

  private onPrimary() {
    return this.url === this.opts.poolUrl
  }

  /** DOWN and allowed: leave the retry loop on the primary and join the first bonded peer. */
  private checkFailover() {
    if (!this.failover || this.state === "draining" || this.state === "stopped") return
    if (!this.onPrimary() || this.state === "running") return
    if (!this.failover.mayFailOver()) return
    const peer = this.peers.find((p) => p !== this.opts.poolUrl)
    if (!peer) return
    this.audit("failover_to_peer", { primary: this.opts.poolUrl, peer })
    clearTimeout(this.reconnectTimer)
    this.switchTo(peer)
  }

  private switchTo(url: string) {
    const old = this.ws
    this.ws = undefined
    this.url = url
    // The pool we leave re-queues what we were doing for it; results could not reach it anyway.
    for (const job of this.running.values()) job.abort.abort()
    if (old) {
      if (this.heartbeat) clearInterval(this.heartbeat)
      try {
        old.send(
          JSON.stringify({
            type: "bye",
            reason: url === this.opts.poolUrl ? "returning to primary" : "failing over",
          } satisfies WorkerMessage),
        )
        old.close(1000, "switching pool")
      } catch {
        // already closed
      }
    }
    this.attempt = 0
    this.connect()
  }

  /** On a peer: every sticky interval, check the primary; once it answers, go home. */
  private startSticky() {
    if (this.stickyTimer || !this.opts.failover) return
    this.stickyTimer = setInterval(async () => {
      if (this.onPrimary()) {
        clearInterval(this.stickyTimer)
        this.stickyTimer = undefined
        return
      }
      const ok = await fetch(`${this.opts.poolUrl}/v1/status`, {
        signal: AbortSignal.timeout(Math.min(5000, this.opts.failover!.stickyMs)),
      })
        .then((r) => r.ok)
        .catch(() => false)
      if (!ok || this.onPrimary() || this.state === "draining" || this.state === "stopped") return
      // Let the peer's in-flight jobs finish first (up to three sticky intervals).
      if (this.running.size > 0 && this.stickyWaits++ < 3) return
      this.stickyWaits = 0
      clearInterval(this.stickyTimer)
      this.stickyTimer = undefined
      this.audit("sticky_return", { primary: this.opts.poolUrl, peer: this.url })
      this.switchTo(this.opts.poolUrl)
    }, this.opts.failover.stickyMs)
  }

  private offers(): ModelOffer[] {
    const out: ModelOffer[] = [...this.engines].map(([id, e]) => ({
      id,
      kind: "llm",
      slots: e.info().sequences,
      context: e.info().contextSize,
    }))
    if (this.embedder)
      out.push({ id: this.embedder.id, kind: "embedding", slots: 1, dims: this.embedder.engine.dimensions })
    return out
  }

  private activity(): Activity {
    return this.monitor?.current ?? "available"
  }

  private connect() {
    if (this.state === "draining" || this.state === "stopped") return
    this.setState("connecting")
    const poolUrl = this.url
    const url = poolUrl.replace(/^http/, "ws") + "/ws"
    // Bun's WebSocket client accepts headers: the token never appears in a URL or a log line.
    const ws = new WebSocket(url, { headers: { authorization: `Bearer ${this.opts.token}` } } as unknown as string[])
    this.ws = ws
    ws.onopen = () => {
      const hello: WorkerMessage = {
        type: "hello",
        v: PROTOCOL_VERSION,
        worker_id: this.identity.worker_id,
        name: this.opts.name ?? this.identity.name,
        version: VERSION,
        hardware: detectHardware({ gpu: this.opts.gpu }),
        models: this.offers(),
        activity: this.activity(),
        ...(this.opts.hardwareClass ? { hardware_class: this.opts.hardwareClass } : {}),
      }
      const events = this.drainEvents()
      if (events) hello.events = events
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
      if (this.onPrimary()) this.failover?.primaryLost()
      else {
        // A peer we failed over to went away too: back to retrying the primary (the tier clock keeps running).
        this.audit("peer_lost", { peer: poolUrl })
        this.url = this.opts.poolUrl
      }
      const cap = this.opts.failover?.retryMs ?? 30_000
      const delay = Math.min(cap, 500 * 2 ** this.attempt++) * (0.5 + Math.random() / 2)
      log.warn(
        `disconnected from ${poolUrl} (${ev.code}${ev.reason ? ` ${ev.reason}` : ""}); retrying in ${Math.round(delay)} ms`,
      )
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

  private onMessage(_ws: WebSocket, raw: string) {
    let msg: PoolMessage
    try {
      msg = JSON.parse(raw)
    } catch {
      return log.warn("pool sent a non-JSON message")
    }
    switch (msg.type) {
      case "welcome": {
        this.attempt = 0
        this.setState("running")
        log.info(`joined pool ${msg.pool_name} at ${this.url} as ${msg.worker_id}`)
        if (this.onPrimary()) {
          if (Array.isArray(msg.peer_pool_urls)) {
            this.peers = msg.peer_pool_urls.filter((u) => typeof u === "string" && /^https?:\/\//.test(u))
            try {
              writeFileSync(
                join(this.opts.dataDir, "peers.json"),
                JSON.stringify({ primary: this.opts.poolUrl, peers: this.peers }),
              )
            } catch (e) {
              log.warn(`could not save the peer list: ${(e as Error).message}`)
            }
          }
          this.failover?.primaryUp()
          if (msg.activity_policy && this.monitor) this.applyPolicy(msg.activity_policy)
        } else {
          this.audit("serving_from_peer", { peer: this.url, pool_name: msg.pool_name, primary: this.opts.poolUrl })
          this.startSticky()
        }
        if (this.heartbeat) clearInterval(this.heartbeat)
        this.heartbeat = setInterval(
          () =>
            this.send({ type: "heartbeat", activity: this.activity(), busy: this.busy(), events: this.drainEvents() }),
          msg.heartbeat_ms || this.opts.heartbeatMs,
        )
        // Events recorded while no pool listened (FAILING, DOWN…) reach this pool's audit log now.
        const pending = this.drainEvents()
        if (pending) this.send({ type: "heartbeat", activity: this.activity(), busy: this.busy(), events: pending })
        this.connectedOnce?.()
        return
      }
      case "self_update":
        void this.selfUpdate(msg)
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

  private applyPolicy(p: ActivityPolicyMessage) {
    try {
      this.monitor!.setPolicy({
        throttledPct: p.throttled_pct,
        busyPct: p.busy_pct,
        workingHours: p.working_hours ? parseWorkingHours(p.working_hours) : undefined,
      })
    } catch (e) {
      log.warn(`ignoring the pool's activity policy: ${(e as Error).message}`)
    }
  }

  private async selfUpdate(offer: UpgradeOffer) {
    if (!this.opts.onSelfUpdate || this.upgrading) return
    this.upgrading = true
    this.audit("self_update_started", { to: offer.version, from: VERSION })
    try {
      await this.opts.onSelfUpdate(offer, this.url)
      this.audit("self_update_installed", { to: offer.version, from: VERSION })
      this.restartWanted?.(`upgraded to ${offer.version}`)
    } catch (e) {
      this.audit("self_update_failed", { to: offer.version, from: VERSION, error: (e as Error).message })
      // Deliver the failure to the pool's audit log now rather than at the next heartbeat.
      this.send({ type: "heartbeat", activity: this.activity(), busy: this.busy(), events: this.drainEvents() })
    } finally {
      this.upgrading = false
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

  private async execute(job: Extract<PoolMessage, { type: "job" }>, signal: AbortSignal) {
    const p = job.params
    if (job.kind === "embedding") {
      if (!this.embedder || this.embedder.id !== job.model)
        throw Object.assign(new Error(`no embedder ${job.model} here`), { code: "model_not_found" })
      const input = p.input ?? []
      if (p.count_tokens) {
        const counts = this.embedder.engine.countTokens(input)
        this.send({
          type: "done",
          job_id: job.job_id,
          finish_reason: "stop",
          usage: { prompt_tokens: counts.reduce((a, b) => a + b, 0), completion_tokens: 0 },
          token_counts: counts,
        })
        return
      }
      const embeddings = await this.embedder.engine.embed(input)
      // The embedder does not report token counts; words are a close, honest stand-in for usage.
      const tokens = input.reduce((n, s) => n + (s.match(/\S+/g)?.length ?? 0), 0)
      this.send({
        type: "done",
        job_id: job.job_id,
        finish_reason: "stop",
        usage: { prompt_tokens: tokens, completion_tokens: 0 },
        embeddings,
      })
      return
    }
    const engine = this.engines.get(job.model)
    if (!engine) throw Object.assign(new Error(`model ${job.model} is not loaded here`), { code: "model_not_found" })
    const out = new TokenCoalescer((text, ids) => this.send({ type: "token", job_id: job.job_id, text, ids }))
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
      (text, ids) => out.push(text, ids),
    )
    out.flush()
    this.send({
      type: "done",
      job_id: job.job_id,
      finish_reason: r.finishReason,
      usage: { prompt_tokens: r.usage.promptTokens, completion_tokens: r.usage.completionTokens },
    })
  }

  /** Stop taking jobs, let running ones finish (up to the grace period), leave, free the engines. */
  async stop() {
    if (this.state === "stopped") return
    this.setState("draining")
    clearTimeout(this.reconnectTimer)
    if (this.failoverTimer) clearInterval(this.failoverTimer)
    if (this.stickyTimer) clearInterval(this.stickyTimer)
    this.monitor?.stop()
    const deadline = Date.now() + this.opts.shutdownGraceMs
    while (this.running.size && Date.now() < deadline) await Bun.sleep(50)
    for (const j of this.running.values()) j.abort.abort()
    await Promise.all([...this.running.values()].map((j) => j.done))
    if (this.heartbeat) clearInterval(this.heartbeat)
    // Whatever the pool's audit log has not heard yet (a self-update just installed) goes before bye.
    const events = this.drainEvents()
    if (events) this.send({ type: "heartbeat", activity: this.activity(), busy: this.busy(), events })
    this.send({ type: "bye", reason: "worker stopping" })
    this.ws?.close(1000, "worker stopping")
    this.ws = undefined
    for (const e of this.engines.values()) await e.dispose()
    await this.embedder?.engine.dispose()
    this.setState("stopped")
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
