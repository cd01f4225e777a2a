// core/scheduler — per-model queues and slot accounting over the live workers. Picks the least
// loaded worker that serves a model (available before throttled, never busy), bounds each queue,
// and re-dispatches jobs of a dead worker that had not streamed anything yet. No I/O of its own:
// workers are reached through a WorkerLink, clients through a JobSink.
import { CounterVec, Histogram } from "../metrics/prom.ts"
import { randomUUID } from "node:crypto"
import { CelluleError, NotFound, ServiceUnavailable, TooManyRequests } from "../errors.ts"
import { logger } from "../log.ts"
import type { Clock } from "../clock.ts"
import type {
  Activity,
  Hardware,
  JobParams,
  ModelOffer,
  PoolMessage,
  RuntimeReport,
  Usage,
  WorkerMessage,
} from "../workers/protocol.ts"
import { FairQueue, type Priority } from "./fair-queue.ts"
import { MOE_MODEL, type MoeProfile } from "../config/cluster-settings.ts"
import { PickHeap, type PickEntry } from "./pick-heap.ts"
import { PROTOCOL_VERSION } from "../workers/protocol.ts"

const log = logger("scheduler")

export interface WorkerLink {
  send(msg: PoolMessage): void
  close(code: number, reason: string): void
}

export interface JobResult {
  finishReason: "stop" | "length" | "abort"
  usage: Usage
  embeddings?: number[][]
  /** Answer to an embedding job with `count_tokens`: tokens per input. */
  tokenCounts?: number[]
  workerId: string
  /** The model that answered (the MoE profile's choice when the client asked for "auto"). */
  model?: string
}

export interface JobSink {
  onStart?(workerId: string): void
  onToken(text: string): void
  onDone(result: JobResult): void
  onError(err: CelluleError): void
  /**
   * Present when the client has seen nothing yet even if tokens arrived (a non-streamed answer is
   * buffered): the job may then be re-run from scratch elsewhere; this resets the buffer.
   */
  onRetry?(): void
  /**
   * Set when the client is already reading a stream: if the worker dies mid-answer the job moves to
   * another worker as prompt + text already sent, and the stream simply continues (lossless).
   */
  resumable?: boolean
}

export type JobKind = "chat" | "completion" | "embedding"

interface ModelSlot {
  offer: ModelOffer
  busy: number
  peak: number
  done: number
  /** Bumped on every change of this slot's pick key (and on removal): older heap entries are stale. */
  ver: number
  /** The worker's arrival order (ties go to the first connected, as the former scan did). */
  seq: number
}

export interface WorkerState {
  id: string
  name: string
  version: string
  hardware: Hardware
  activity: Activity
  link: WorkerLink
  models: Map<string, ModelSlot>
  connectedAt: number
  lastSeen: number
  lastAssigned: number
  jobs: Set<Job>
  hardwareClass?: string
  /** What the worker last said it runs (runtime flags applied, engine values read back). */
  runtime?: RuntimeReport
  /** The protocol version this worker and the pool speak (negotiated at hello). */
  protocol: number
  /** Being migrated to another pool (issue 17): gets no new job, finishes those in flight. */
  draining?: boolean
}

export interface Job {
  id: string
  /** Who asked (API key, else client address): the unit of fairness. */
  client: string
  priority: Priority
  model: string
  kind: JobKind
  params: JobParams
  sink: JobSink
  state: "queued" | "running" | "finished"
  worker?: WorkerState
  tokensSent: number
  /** Raw text already delivered to the sink, and its token count, across attempts. */
  textSoFar: string
  tokensSoFar: number
  /** Token ids behind textSoFar, when the worker reports them (exact failover). */
  idsSoFar: number[] | undefined
  /** The request as the client sent it; params may become a continuation after a failover. */
  original: JobParams
  attempts: number
  enqueuedAt: number
  timer?: ReturnType<typeof setTimeout>
}

export class WorkerLost extends CelluleError {
  constructor() {
    super("worker_lost", "the worker serving this request disconnected mid-answer", 502)
  }
}

export interface SchedulerOptions {
  clock: Clock
  /** Fixed queue bound per model; 0 = auto (4 × live slots, at least 16). */
  maxQueue: number
  /** Jobs one client (API key, else address) may have waiting per model (§0.3); 0 = no per-client bound. */
  clientQueueMax?: number
  queueTimeoutMs: number
  heartbeatMs: number
  /** After an interactive request, batch stays at one running job this long (people are at work). */
  interactiveWindowMs?: number
  /** Declared headcount across sites (federated), which sizes the automatic queue bound. */
  headcount?: () => number
  /** Slots per model kept free for interactive requests: batch jobs never take the last ones. */
  interactiveReserve?: number
  /** Called the first time a model id is seen, so it can be remembered (404 vs 503). */
  onModelSeen?: (id: string, kind: ModelOffer["kind"]) => void
}

export class Scheduler {
  /** Models held by migrating workers (holdModels): count of workers in transit per model. */
  private readonly held = new Map<string, number>()
  readonly workers = new Map<string, WorkerState>()
  private readonly queues = new Map<string, FairQueue<Job>>()
  private readonly jobs = new Map<string, Job>()
  readonly knownModels = new Map<string, ModelOffer["kind"]>()
  private readonly lastInteractive = new Map<string, number>()
  private reaper?: ReturnType<typeof setInterval>
  /** Metrics kept in memory, read by GET /metrics (core/metrics/pool.ts). */
  readonly tokensGenerated = new CounterVec(
    "cellule_tokens_generated_total",
    "Tokens streamed back by workers, by model (rate() gives tokens/s).",
  )
  readonly ttft = new Histogram(
    "cellule_time_to_first_token_seconds",
    "Time from a generation entering the queue to its first token.",
  )
  /** Per model: workers that can take a job, best first (pickWorker is O(log n), not a fleet scan). */
  private readonly ready = new Map<string, PickHeap<{ w: WorkerState; s: ModelSlot }>>()
  /** Per model: live slots, busy slots and workers, kept as workers come, go and take jobs. */
  private readonly caps = new Map<string, { slots: number; busy: number; workers: number }>()
  private seq = 0
  /** The MoE profile (Advanced settings, replicated): which models answer `"model": "auto"`, and how. */
  moeProfile: () => MoeProfile | undefined = () => undefined
  /** The draw of the weighted spread (a test fixes it). */
  random: () => number = Math.random

  constructor(private readonly opts: SchedulerOptions) {}

  /**
   * The model that answers `"model": "auto"` under the MoE profile: among its experts (no experts: every
   * chat model) that have a live worker, one drawn in proportion to the weights, or the one with the
   * most free slots (least_loaded). A pool serving a model really named "auto" keeps that meaning.
   */
  moeChoice(): string {
    const profile = this.moeProfile()
    const live = new Set(
      this.liveModels()
        .filter((m) => m.kind === "llm")
        .map((m) => m.id),
    )
    const experts = (
      profile?.experts.length ? profile.experts : [...live].sort().map((model) => ({ model, weight: 1 }))
    ).filter((e) => e.weight > 0 && live.has(e.model))
    if (!experts.length)
      throw new ServiceUnavailable(
        "no_worker_available",
        'no model of the MoE profile has a live worker for "auto"',
        "start a worker with one of the profile's models, or change the profile (Advanced settings)",
      )
    if (profile?.spread === "least_loaded" || !profile) {
      const free = (m: string) => {
        const c = this.capacity(m)
        return c.slots ? (c.slots - c.busy) / c.slots : 0
      }
      return experts.reduce((best, e) => (free(e.model) > free(best.model) ? e : best)).model
    }
    let r = this.random() * experts.reduce((n, e) => n + e.weight, 0)
    for (const e of experts) {
      r -= e.weight
      if (r < 0) return e.model
    }
    return experts[experts.length - 1].model
  }

  start() {
    // A worker silent for three heartbeats is gone even if its TCP connection is not closed yet.
    this.reaper ??= setInterval(() => this.reapSilent(), Math.max(50, this.opts.heartbeatMs))
  }

  stop() {
    if (this.reaper) clearInterval(this.reaper)
    this.reaper = undefined
    for (const q of this.queues.values())
      for (const j of [...q]) this.fail(j, new ServiceUnavailable("pool_stopping", "the pool is shutting down"))
  }

  // ---- workers -------------------------------------------------------------------------------

  addWorker(hello: Extract<WorkerMessage, { type: "hello" }>, link: WorkerLink): WorkerState {
    const old = this.workers.get(hello.worker_id)
    if (old) this.removeWorker(old.id, "replaced by a new connection", old.link)
    const now = this.opts.clock.now()
    const w: WorkerState = {
      id: hello.worker_id,
      name: hello.name,
      version: hello.version,
      hardware: hello.hardware,
      activity: hello.activity ?? "available",
      link,
      models: new Map(hello.models.map((o) => [o.id, { offer: o, busy: 0, peak: 0, done: 0, ver: 0, seq: this.seq }])),
      connectedAt: now,
      lastSeen: now,
      lastAssigned: 0,
      jobs: new Set(),
      hardwareClass: hello.hardware_class,
      protocol: Math.min(hello.v, PROTOCOL_VERSION),
    }
    this.seq++
    this.workers.set(w.id, w)
    for (const [model, slot] of w.models) {
      const c = this.cap(model)
      c.slots += slot.offer.slots
      c.workers++
      this.offer(w, model)
    }
    for (const o of hello.models) this.rememberModel(o.id, o.kind)
    log.info(
      `worker ${w.name} (${w.id}) joined: ${hello.models.map((o) => `${o.id}×${o.slots}`).join(", ") || "no models"}`,
    )
    for (const o of hello.models) this.pump(o.id)
    return w
  }

  /**
   * Stop (true) or resume (false) giving a worker new jobs, e.g. while it migrates to another pool; the
   * jobs it runs finish. Returns the worker, or undefined when it is not connected here.
   */
  setDraining(id: string, draining: boolean): WorkerState | undefined {
    const w = this.workers.get(id)
    if (!w || !!w.draining === draining) return w
    w.draining = draining
    for (const m of w.models.keys()) this.offer(w, m)
    if (!draining) for (const m of w.models.keys()) this.pump(m)
    log.info(`worker ${w.name} (${id}) ${draining ? "drains: no new jobs" : "takes jobs again"}`)
    return w
  }

  /**
   * Models a migrating worker carries (issue 17): while held, a request finds no "no worker" answer
   * but a place in the queue, since the worker may come back (rolled back) or the move ends.
   */
  holdModels(models: string[]) {
    for (const m of models) this.held.set(m, (this.held.get(m) ?? 0) + 1)
  }

  /**
   * The move ended: jobs still queued for a model no worker here serves fail with no_worker_available,
   * which the gateway forwards to a peer (core/gateway/forward-policy.ts), the target among them.
   */
  releaseModels(models: string[]) {
    for (const m of models) {
      const n = (this.held.get(m) ?? 0) - 1
      if (n > 0) this.held.set(m, n)
      else this.held.delete(m)
      if (n > 0 || this.capacity(m).workers > 0) continue
      const q = this.queues.get(m)
      if (!q?.length) continue
      log.info(`${q.length} job(s) for ${m} wait for a worker that moved away: handing them back for a peer`)
      const err = () =>
        new ServiceUnavailable("no_worker_available", `no live worker serves "${m}" here any more`, "retry")
      for (const j of [...q]) this.fail(j, err())
    }
  }

  rememberModel(id: string, kind: ModelOffer["kind"]) {
    if (this.knownModels.has(id)) return
    this.knownModels.set(id, kind)
    this.opts.onModelSeen?.(id, kind)
  }

  /** Forget a worker; its running jobs are re-queued when nothing was streamed yet. */
  removeWorker(id: string, reason: string, onlyLink?: WorkerLink) {
    const w = this.workers.get(id)
    if (!w || (onlyLink && w.link !== onlyLink)) return
    this.workers.delete(id)
    for (const [model, slot] of w.models) {
      slot.ver++
      const c = this.cap(model)
      c.slots -= slot.offer.slots
      c.busy -= slot.busy
      c.workers--
    }
    log.warn(`worker ${w.name} (${id}) left: ${reason}; ${w.jobs.size} job(s) in flight`)
    const models = new Set<string>()
    for (const job of w.jobs) {
      job.worker = undefined
      models.add(job.model)
      if (job.tokensSent > 0 && !job.sink.onRetry && job.sink.resumable && job.attempts < 3 && this.resume(job)) {
        job.state = "queued"
        this.queue(job.model).unshift(job)
        log.info(`job ${job.id} resumes elsewhere after ${job.tokensSoFar} streamed tokens (worker ${w.name} lost)`)
      } else if ((job.tokensSent === 0 || job.sink.onRetry) && job.attempts < 3) {
        job.sink.onRetry?.()
        job.tokensSent = 0
        job.textSoFar = ""
        job.tokensSoFar = 0
        job.idsSoFar = []
        job.params = job.original
        job.state = "queued"
        this.queue(job.model).unshift(job)
        log.info(`job ${job.id} re-queued after losing worker ${w.name}`)
      } else {
        this.fail(job, new WorkerLost())
      }
    }
    w.jobs.clear()
    for (const m of models) this.pump(m)
  }

  onWorkerMessage(w: WorkerState, msg: WorkerMessage) {
    w.lastSeen = this.opts.clock.now()
    switch (msg.type) {
      case "heartbeat": {
        if (msg.runtime) this.runtimeReported(w, msg.runtime)
        const was = w.activity
        w.activity = msg.activity
        if (was !== w.activity) {
          log.info(`worker ${w.name} is now ${w.activity}`)
          for (const m of w.models.keys()) this.offer(w, m)
          for (const m of w.models.keys()) this.pump(m)
        }
        return
      }
      case "token": {
        const job = this.ownJob(w, msg.job_id)
        if (!job || !msg.text) return
        // Time to first token, from admission into the queue; a failover's continuation is not a first token.
        if (job.tokensSoFar === 0) this.ttft.observe((this.opts.clock.now() - job.enqueuedAt) / 1000)
        // Frames are coalesced on the worker (several tokens per frame): count the token ids they carry.
        this.tokensGenerated.inc({ model: job.model }, msg.ids?.length || 1)
        job.tokensSent++
        job.tokensSoFar++
        job.textSoFar += msg.text
        if (msg.ids && job.idsSoFar) job.idsSoFar.push(...msg.ids)
        else job.idsSoFar = undefined
        job.sink.onToken(msg.text)
        return
      }
      case "done": {
        const job = this.ownJob(w, msg.job_id)
        if (!job) return
        this.release(job)
        job.state = "finished"
        this.jobs.delete(job.id)
        job.sink.onDone({
          finishReason: msg.finish_reason,
          usage: this.usageOf(job, msg.usage),
          embeddings: msg.embeddings,
          tokenCounts: msg.token_counts,
          workerId: w.id,
          model: job.model,
        })
        this.pump(job.model)
        return
      }
      case "error": {
        if (!msg.job_id) return log.warn(`worker ${w.name} reports ${msg.code}: ${msg.message}`)
        const job = this.ownJob(w, msg.job_id)
        if (!job) return
        this.release(job)
        // A client mistake the worker caught (context too long) keeps its 4xx; anything else is the upstream's fault.
        const status = msg.status && msg.status >= 400 && msg.status < 500 ? msg.status : 502
        this.fail(job, new CelluleError(msg.code, msg.message, status))
        this.pump(job.model)
        return
      }
      default:
        return
    }
  }

  /** A worker applied new runtime flags: its slots per model follow its parallel sequences. */
  private runtimeReported(w: WorkerState, r: RuntimeReport) {
    w.runtime = r
    for (const [model, m] of Object.entries(r.models)) {
      const slot = w.models.get(model)
      if (!slot || m.parallel < 1 || m.parallel > 256 || slot.offer.slots === m.parallel) continue
      log.info(`worker ${w.name} now runs ${model} with ${m.parallel} slots (was ${slot.offer.slots})`)
      this.cap(model).slots += m.parallel - slot.offer.slots
      slot.offer = { ...slot.offer, slots: m.parallel, context: m.context_size || slot.offer.context }
      this.offer(w, model)
      this.pump(model)
    }
  }

  /**
   * Turn a half-streamed job into its continuation: the text already sent becomes the start of the
   * assistant's answer (chat) or part of the prompt (completion), and only the remaining tokens are
   * asked for. With temperature 0 or a seed the continuation is the answer the first worker would
   * have given. Returns false when nothing is left to generate.
   */
  private resume(job: Job): boolean {
    const p = job.original
    const ids = job.idsSoFar
    const generated = ids ? ids.length : job.tokensSoFar
    const left = p.max_tokens !== undefined ? p.max_tokens - generated : undefined
    if (left !== undefined && left < 1) return false
    job.tokensSent = 0
    // Exact: continue from the token ids. Fallback (a worker that does not report ids): from the text.
    job.params = ids
      ? { ...p, resume_tokens: [...ids], max_tokens: left }
      : job.kind === "chat"
        ? { ...p, messages: [...(p.messages ?? []), { role: "assistant", content: job.textSoFar }], max_tokens: left }
        : { ...p, prompt: (p.prompt ?? "") + job.textSoFar, max_tokens: left }
    return true
  }

  /** Usage as the client sees it: continuation prompts count the streamed text as completion. */
  private usageOf(job: Job, u: Usage): Usage {
    if (job.params === job.original) return u
    const earlier = job.params.resume_tokens?.length ?? job.tokensSoFar - job.tokensSent
    return { prompt_tokens: Math.max(0, u.prompt_tokens - earlier), completion_tokens: u.completion_tokens + earlier }
  }

  private ownJob(w: WorkerState, id: string): Job | undefined {
    const job = this.jobs.get(id)
    return job && job.worker === w ? job : undefined
  }

  private release(job: Job) {
    const w = job.worker
    if (!w) return
    const slot = w.models.get(job.model)
    if (slot) {
      if (slot.busy > 0 && this.workers.get(w.id) === w) this.cap(job.model).busy--
      slot.busy = Math.max(0, slot.busy - 1)
      slot.done++
    }
    w.jobs.delete(job)
    job.worker = undefined
    if (slot) this.offer(w, job.model)
  }

  private reapSilent() {
    const limit = this.opts.clock.now() - 3 * this.opts.heartbeatMs
    for (const w of [...this.workers.values()]) {
      if (w.lastSeen < limit) {
        this.removeWorker(w.id, "missed 3 heartbeats")
        w.link.close(4000, "heartbeat timeout")
      }
    }
  }

  // ---- jobs ----------------------------------------------------------------------------------

  /** Live slots for a model across workers that are not busy. */
  capacity(model: string): { slots: number; busy: number; workers: number } {
    const c = this.caps.get(model)
    return c ? { ...c } : { slots: 0, busy: 0, workers: 0 }
  }

  private cap(model: string) {
    let c = this.caps.get(model)
    if (!c) {
      c = { slots: 0, busy: 0, workers: 0 }
      this.caps.set(model, c)
    }
    return c
  }

  /** Fixed MAX_QUEUE, or auto: room for every declared employee to have one request waiting (§0.3). */
  queueLimit(model: string): number {
    return this.opts.maxQueue > 0
      ? this.opts.maxQueue
      : Math.max(16, 4 * this.capacity(model).slots, this.opts.headcount?.() ?? 0)
  }

  /**
   * Accept a job or throw: model_not_found (404), no_worker_available (503), queue_full or
   * client_queue_full (429). `capped`: the client is one employee (an API key or an address), held to
   * clientQueueMax waiting jobs; internal work and a peer's anonymous forwards are not.
   */
  submit(
    model: string,
    kind: JobKind,
    params: JobParams,
    sink: JobSink,
    who: { client?: string; priority?: Priority; capped?: boolean } = {},
  ): Job {
    const wanted: ModelOffer["kind"] = kind === "embedding" ? "embedding" : "llm"
    if (model === MOE_MODEL && wanted === "llm" && !this.knownModels.has(MOE_MODEL)) model = this.moeChoice()
    const known = this.knownModels.get(model)
    if (!known || known !== wanted) {
      throw new NotFound(`model "${model}" is not served by this pool`, "model_not_found")
    }
    const cap = this.capacity(model)
    // A model whose worker is migrating away keeps queueing here until the move ends (holdModels).
    if (cap.workers === 0 && !this.held.get(model)) {
      throw new ServiceUnavailable(
        "no_worker_available",
        `no live worker serves "${model}" right now`,
        "start a worker with this model, or retry later",
      )
    }
    const q = this.queue(model)
    const free = this.pickWorker(model) !== undefined
    if (!free && q.length >= this.queueLimit(model)) {
      throw new TooManyRequests(
        "queue_full",
        `the queue for "${model}" is full (${q.length} waiting)`,
        Math.max(1, Math.ceil(q.length / Math.max(1, cap.slots))),
      )
    }
    const perClient = this.opts.clientQueueMax ?? 0
    if (!free && who.capped && who.client && perClient > 0) {
      const mine = q.countFor(who.client)
      if (mine >= perClient) {
        throw new TooManyRequests(
          "client_queue_full",
          `you already have ${mine} requests waiting for "${model}" (at most ${perClient} per client)`,
          // Round-robin between clients: each of this client's jobs waits about one turn of every slot.
          Math.max(1, Math.ceil(q.length / Math.max(1, cap.slots))),
        )
      }
    }
    const job: Job = {
      id: randomUUID(),
      client: who.client ?? "anonymous",
      priority: who.priority ?? "interactive",
      model,
      kind,
      params,
      original: params,
      sink,
      state: "queued",
      tokensSent: 0,
      textSoFar: "",
      tokensSoFar: 0,
      idsSoFar: [],
      attempts: 0,
      enqueuedAt: this.opts.clock.now(),
    }
    this.jobs.set(job.id, job)
    if (job.priority === "interactive") this.lastInteractive.set(model, this.opts.clock.now())
    q.push(job)
    this.pump(model)
    // The queue timeout only for a job that waits: one a free slot took at once arms no timer (a timer
    // armed and cleared per request was a share of the first token's time).
    if (job.state === "queued")
      job.timer = setTimeout(() => {
        if (job.state === "queued")
          this.fail(
            job,
            new ServiceUnavailable(
              "queue_timeout",
              `no slot for "${model}" freed up in ${this.opts.queueTimeoutMs} ms`,
            ),
          )
      }, this.opts.queueTimeoutMs)
    return job
  }

  /** The client went away: drop a queued job, or tell the worker to stop (the slot frees on its ack). */
  cancel(job: Job) {
    if (job.state === "queued") {
      this.dequeue(job)
      job.state = "finished"
      this.jobs.delete(job.id)
      clearTimeout(job.timer)
    } else if (job.state === "running" && job.worker) {
      job.worker.link.send({ type: "cancel", job_id: job.id })
    }
  }

  private queue(model: string): FairQueue<Job> {
    let q = this.queues.get(model)
    if (!q) {
      q = new FairQueue<Job>()
      this.queues.set(model, q)
    }
    return q
  }

  private dequeue(job: Job) {
    this.queue(job.model).remove(job)
  }

  private fail(job: Job, err: CelluleError) {
    if (job.state === "finished") return
    if (job.state === "queued") this.dequeue(job)
    this.release(job)
    job.state = "finished"
    clearTimeout(job.timer)
    this.jobs.delete(job.id)
    job.sink.onError(err)
  }

  private pickWorker(model: string): WorkerState | undefined {
    // available before throttled, then lowest load ratio, then the one used least recently.
    return this.ready.get(model)?.peek()?.item.w
  }

  /** (Re)enter a worker's pick key for a model after anything in it changed; stale entries drop out. */
  private offer(w: WorkerState, model: string) {
    const s = w.models.get(model)
    if (!s) return
    s.ver++
    if (
      this.workers.get(w.id) !== w ||
      s.busy >= s.offer.slots ||
      w.activity === "busy" ||
      w.draining ||
      this.isolated.has(w.id)
    )
      return
    let h = this.ready.get(model)
    if (!h) {
      h = new PickHeap((e: PickEntry<{ w: WorkerState; s: ModelSlot }>) => e.ver === e.item.s.ver)
      this.ready.set(model, h)
    }
    h.push({
      item: { w, s },
      ver: s.ver,
      rank: w.activity === "available" ? 0 : 1,
      load: s.busy / s.offer.slots,
      last: w.lastAssigned,
      seq: s.seq,
    })
    h.compact(this.caps.get(model)?.workers ?? 0)
  }

  private running(model: string): { interactive: number; batch: number } {
    const out = { interactive: 0, batch: 0 }
    for (const w of this.workers.values()) for (const j of w.jobs) if (j.model === model) out[j.priority]++
    return out
  }

  private pump(model: string) {
    const q = this.queue(model)
    while (q.length) {
      const w = this.pickWorker(model)
      if (!w) return
      // Batch work leaves `interactiveReserve` slots idle, so a colleague's question starts at once,
      // and backs off to one running job while people are using the model (a request running, or
      // one within `interactiveWindowMs`): on a small machine every batch sequence takes CPU from them.
      if (q.peek()!.priority === "batch") {
        const cap = this.capacity(model)
        const reserve = this.opts.interactiveReserve ?? 0
        if (cap.slots - cap.busy <= reserve && cap.slots > reserve) return
        const running = this.running(model)
        const peopleActive =
          running.interactive > 0 ||
          this.opts.clock.now() - (this.lastInteractive.get(model) ?? -Infinity) < (this.opts.interactiveWindowMs ?? 0)
        if (reserve > 0 && peopleActive && running.batch >= 1) return
      }
      const job = q.shift()!
      const slot = w.models.get(model)!
      slot.busy++
      this.cap(model).busy++
      slot.peak = Math.max(slot.peak, slot.busy)
      w.lastAssigned = this.opts.clock.now() + Math.random()
      for (const m of w.models.keys()) this.offer(w, m)
      w.jobs.add(job)
      job.worker = w
      job.state = "running"
      job.attempts++
      clearTimeout(job.timer)
      try {
        w.link.send({ type: "job", job_id: job.id, kind: job.kind, model, params: job.params })
        job.sink.onStart?.(w.id)
      } catch (e) {
        log.warn(`sending job to ${w.name} failed: ${(e as Error).message}`)
        this.removeWorker(w.id, "send failed")
        return
      }
    }
  }

  // ---- isolation (the model probe, admin guide §4.9.4) -------------------------------------

  /** Workers set apart from traffic: no queued job is placed on them; runOn() reaches them. */
  private readonly isolated = new Set<string>()

  /** Sets a worker apart from traffic (its running jobs finish); returns the function that gives it back. */
  isolate(workerId: string): () => void {
    this.isolated.add(workerId)
    const w = this.workers.get(workerId)
    if (w) for (const m of w.models.keys()) this.offer(w, m)
    return () => {
      if (!this.isolated.delete(workerId)) return
      const back = this.workers.get(workerId)
      if (!back) return
      for (const m of back.models.keys()) this.offer(back, m)
      for (const m of back.models.keys()) this.pump(m)
    }
  }

  /** Jobs running on a worker now (an isolated worker is drained when this reaches 0). */
  runningOn(workerId: string): number {
    return this.workers.get(workerId)?.jobs.size ?? 0
  }

  /** Runs a job on one isolated worker at once, outside the queues; 503 when it cannot take it now. */
  runOn(workerId: string, model: string, kind: JobKind, params: JobParams, sink: JobSink): Job {
    const w = this.workers.get(workerId)
    const slot = w?.models.get(model)
    if (!w || !slot || !this.isolated.has(workerId))
      throw new ServiceUnavailable("worker_not_isolated", `worker ${workerId} is not set apart to serve "${model}"`)
    if (slot.busy >= slot.offer.slots)
      throw new ServiceUnavailable("no_worker_available", `worker ${w.name} has no free slot for "${model}"`)
    const job: Job = {
      id: randomUUID(),
      client: "cellule.probe",
      priority: "interactive",
      model,
      kind,
      params,
      original: params,
      sink,
      state: "running",
      tokensSent: 0,
      textSoFar: "",
      tokensSoFar: 0,
      idsSoFar: [],
      attempts: 1,
      enqueuedAt: this.opts.clock.now(),
    }
    this.jobs.set(job.id, job)
    slot.busy++
    this.cap(model).busy++
    slot.peak = Math.max(slot.peak, slot.busy)
    w.jobs.add(job)
    job.worker = w
    w.link.send({ type: "job", job_id: job.id, kind, model, params })
    sink.onStart?.(w.id)
    return job
  }

  /** Plain data for /v1/status, /v1/workers and the dashboard. */
  snapshot() {
    return {
      workers: [...this.workers.values()].map((w) => ({
        id: w.id,
        name: w.name,
        version: w.version,
        hardware: w.hardware,
        activity: w.activity,
        connected_at: new Date(w.connectedAt).toISOString(),
        last_seen: new Date(w.lastSeen).toISOString(),
        models: [...w.models.values()].map((s) => ({
          id: s.offer.id,
          kind: s.offer.kind,
          slots: s.offer.slots,
          busy: s.busy,
          peak_busy: s.peak,
          jobs_done: s.done,
        })),
        ...(w.hardwareClass ? { hardware_class: w.hardwareClass } : {}),
        ...(w.runtime ? { runtime: w.runtime } : {}),
      })),
      queues: this.queued(),
      queue_depth: [...this.queues.values()].reduce((n, q) => n + q.length, 0),
    }
  }

  /**
   * Models with at least one live worker, from the per-model counts (O(models), not a fleet scan: the
   * forward-capacity answer and "auto" call it per request, with thousands of workers connected).
   */
  liveModels(): { id: string; kind: ModelOffer["kind"]; slots: number; workers: number }[] {
    const out: { id: string; kind: ModelOffer["kind"]; slots: number; workers: number }[] = []
    for (const [id, c] of this.caps)
      if (c.workers > 0) out.push({ id, kind: this.knownModels.get(id) ?? "llm", slots: c.slots, workers: c.workers })
    return out
  }

  /** Requests waiting per model (models with none left out), without building the fleet's snapshot. */
  queued(): Record<string, number> {
    const out: Record<string, number> = {}
    for (const [m, q] of this.queues) if (q.length) out[m] = q.length
    return out
  }
}
