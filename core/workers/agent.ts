// core/workers/agent — the worker side: loads its engines, joins its pool over /ws, heartbeats, and
// reconnects with jittered backoff. Jobs, failover, audit and self-update live in agent-*.ts beside
// it; this file owns the connection and the state. Never holds cluster state beyond its config.
import { systemClock, type Clock } from "../clock.ts"
import { logger } from "../log.ts"
import { VERSION } from "../version.ts"
import { ActivityMonitor, parseWorkingHours, type ActivityProbe } from "./activity.ts"
import { AgentAuditTrail } from "./agent-audit.ts"
import { disposeEngines, loadEngines, modelOffers, type EngineOptions } from "./agent-engines.ts"
import { AgentRuntime } from "./agent-runtime.ts"
import { AgentFailover, type FailoverSettings } from "./agent-failover.ts"
import { AgentJobs, type AgentEngines } from "./agent-jobs.ts"
import { AgentSelfUpdate, type SelfUpdateHandler } from "./agent-update.ts"
import { classify, detectHardware } from "./hardware.ts"
import { loadOrCreateIdentity, migratedPoolUrl } from "./identity.ts"
import { AgentMigration } from "./agent-migration.ts"
import { AgentPoolRtts } from "./agent-rtt.ts"
import { PeerReleaseKeys } from "./peer-release-keys.ts"
import {
  PROTOCOL_VERSION,
  type Activity,
  type ActivityPolicyMessage,
  type HardwareClass,
  type PoolMessage,
  type WorkerMessage,
} from "./protocol.ts"

export { parseModelSpec, type ModelSpec } from "./agent-engines.ts"
export { TokenCoalescer } from "./agent-jobs.ts"

const log = logger("workers.agent")

export interface AgentOptions extends EngineOptions {
  poolUrl: string
  token: string
  heartbeatMs: number
  shutdownGraceMs: number
  hardwareClass?: HardwareClass
  /** Display name (the enrolled one); default: the host name kept in worker.json. */
  name?: string
  /** CELLULE_PEER_POOL_URLS on the worker: failover peers that override the ones its pool hands over. */
  peerPoolUrls?: string[]
  /** §4.6.1 hysteresis towards the primary pool (poolUrl); absent: retry the primary forever. */
  failover?: FailoverSettings
  /** Host activity watch; absent: always available. */
  activity?: {
    probe: ActivityProbe
    throttledPct: number
    busyPct: number
    intervalMs: number
    inputIdleMs?: () => number | undefined
    inputActiveMs?: number
  }
  /**
   * The token as the configuration says now (worker.json re-read). After a revocation the agent stops
   * retrying and polls this; a different token means the machine was re-enrolled: connect again.
   */
  reloadToken?: () => string | undefined
  /** Called with a self_update offer; resolve to restart (the binary was swapped), reject to stay. */
  onSelfUpdate?: SelfUpdateHandler
  clock?: Clock
}

type State = "idle" | "loading" | "connecting" | "running" | "revoked" | "draining" | "stopped"

/** The pool's close code for a revoked worker token (docs/protocol.md); never retried with the same token. */
const CLOSE_TOKEN_REVOKED = 4003
/** While revoked, how often the configuration is re-read for a new token. */
const TOKEN_POLL_MS = 2000

export class WorkerAgent {
  state: State = "idle"
  private engines: AgentEngines = { llm: new Map() }
  private ws?: WebSocket
  private heartbeat?: ReturnType<typeof setInterval>
  private reconnectTimer?: ReturnType<typeof setTimeout>
  private tokenTimer?: ReturnType<typeof setInterval>
  private token: string
  private attempt = 0
  /** Bonded peers' release keys named by the primary: a failover peer's signed offers verify (issue 14.4). */
  readonly releaseKeys: PeerReleaseKeys
  private identity
  private connectedOnce?: () => void
  readonly connected: Promise<void>
  /** The pool this agent is talking to: the primary (primaryUrl) or a bonded peer after failover. */
  url: string
  /** The worker's own pool: the configured one, or where a migration order moved it (worker.json). */
  primaryUrl: string
  /** The protocol version said in hello: PROTOCOL_VERSION, or 1 after a pool refused it (an older pool). */
  private helloVersion = PROTOCOL_VERSION
  /** A `migrate_pool` being carried out (agent-migration.ts). */
  private readonly migration: AgentMigration
  /** §4.8: round trips to the pools, measured while the pool asks (agent-rtt.ts). */
  private readonly rtts = new AgentPoolRtts()
  private readonly trail: AgentAuditTrail
  private readonly jobs: AgentJobs
  private readonly failover?: AgentFailover
  private readonly update: AgentSelfUpdate
  private monitor?: ActivityMonitor
  /** Resolves when the agent wants its process restarted (a self-update was installed). */
  readonly restart: Promise<string>
  /** The pool's runtime flags for this machine's class, applied between jobs (core/workers/agent-runtime.ts). */
  readonly runtime: AgentRuntime

  constructor(private readonly opts: AgentOptions) {
    this.identity = loadOrCreateIdentity(opts.dataDir, opts.token)
    this.releaseKeys = new PeerReleaseKeys(opts.dataDir, opts.poolUrl)
    this.connected = new Promise((r) => (this.connectedOnce = r))
    this.primaryUrl = migratedPoolUrl(opts.dataDir, opts.poolUrl) ?? opts.poolUrl
    this.url = this.primaryUrl
    this.token = opts.token
    const clock = opts.clock ?? systemClock
    this.trail = new AgentAuditTrail(opts.dataDir, clock)
    this.jobs = new AgentJobs(this.engines, (msg) => this.send(msg))
    this.update = new AgentSelfUpdate(
      opts.onSelfUpdate,
      (event, detail) => this.audit(event, detail),
      () => this.sendHeartbeat(),
    )
    this.restart = this.update.restart
    this.runtime = new AgentRuntime(opts, this.engines, this.jobs, this.trail)
    this.migration = new AgentMigration({
      dataDir: opts.dataDir,
      configured: opts.poolUrl,
      current: () => this.url,
      primary: () => this.primaryUrl,
      setPrimary: (url) => (this.primaryUrl = url),
      running: () => this.state === "running",
      leaving: () => this.state === "draining" || this.state === "stopped",
      runningJobs: () => this.jobs.size,
      drain: (deadline) => this.jobs.drain(deadline),
      switchTo: (url) => this.switchTo(url),
      audit: (event, detail) => this.audit(event, detail),
    })
    if (opts.failover) {
      const agent = this
      this.failover = new AgentFailover(
        {
          get primary() {
            return agent.primaryUrl
          },
          current: () => this.url,
          joined: () => this.state === "running",
          // Revoked: no pool will take this token; failing over would only knock on another door.
          leaving: () =>
            this.state === "revoked" || this.state === "draining" || this.state === "stopped" || this.migration.active,
          runningJobs: () => this.jobs.size,
          awaitingWelcome: () => this.ws?.readyState === WebSocket.OPEN,
          switchTo: (url) => this.switchTo(url),
          audit: (event, detail) => this.audit(event, detail),
        },
        opts.failover,
        opts.dataDir,
        clock,
        opts.peerPoolUrls,
      )
    }
    if (opts.activity) {
      this.monitor = new ActivityMonitor({
        ...opts.activity,
        now: () => clock.now(),
        // Tell the pool at once: a busy host must stop getting jobs now, not at the next heartbeat.
        onChange: () => this.sendHeartbeat(),
      })
    }
  }

  /** Record a lifecycle event: log line, local audit file, and the pool's audit log on next contact. */
  audit(event: string, detail: Record<string, unknown> = {}) {
    this.trail.record(event, detail)
  }

  private setState(s: State) {
    if (this.state === s) return
    log.info(`state ${this.state} → ${s}`)
    this.state = s
  }

  async start() {
    this.setState("loading")
    await loadEngines(this.runtime.options, this.engines)
    this.monitor?.start()
    this.failover?.start()
    this.connect()
  }

  private onPrimary() {
    return this.url === this.primaryUrl
  }

  private switchTo(url: string) {
    clearTimeout(this.reconnectTimer)
    const old = this.ws
    this.ws = undefined
    this.url = url
    // The pool we leave re-queues what we were doing for it; results could not reach it anyway.
    this.jobs.abortAll()
    if (old) {
      if (this.heartbeat) clearInterval(this.heartbeat)
      try {
        const reason = this.migration.active
          ? "migrating"
          : url === this.primaryUrl
            ? "returning to primary"
            : "failing over"
        old.send(JSON.stringify({ type: "bye", reason } satisfies WorkerMessage))
        old.close(1000, "switching pool")
      } catch {
        // already closed
      }
    }
    this.attempt = 0
    this.connect()
  }

  /** The worker's Prometheus metrics (core/metrics/worker.ts), gauges read now. */
  metricsText(): string {
    return this.jobs.metrics.render({
      running: this.jobs.size,
      connected: this.ws?.readyState === WebSocket.OPEN,
      activity: this.activity(),
    })
  }

  private activity(): Activity {
    return this.monitor?.current ?? "available"
  }

  private connect() {
    if (this.state === "revoked" || this.state === "draining" || this.state === "stopped") return
    this.setState("connecting")
    const poolUrl = this.url
    const url = poolUrl.replace(/^http/, "ws") + "/ws"
    // Bun's WebSocket client accepts headers: the token never appears in a URL or a log line.
    const ws = new WebSocket(url, { headers: { authorization: `Bearer ${this.token}` } } as unknown as string[])
    this.ws = ws
    ws.onopen = () => {
      const hello: WorkerMessage = {
        type: "hello",
        v: this.helloVersion,
        worker_id: this.identity.worker_id,
        name: this.opts.name ?? this.identity.name,
        version: VERSION,
        hardware: detectHardware({ gpu: this.opts.gpu }),
        models: modelOffers(this.engines),
        activity: this.activity(),
        hardware_class: this.opts.hardwareClass ?? classify(detectHardware({ gpu: this.opts.gpu })),
      }
      const events = this.trail.forHello()
      if (events) hello.events = events
      const rtts = this.rtts.snapshot()
      if (rtts) hello.pool_rtts = rtts
      if (this.migration.movedAt) hello.moved_ms_ago = Math.max(0, Date.now() - this.migration.movedAt)
      ws.send(JSON.stringify(hello))
    }
    ws.onmessage = (ev) => this.onMessage(String(ev.data))
    ws.onclose = (ev) => {
      if (this.ws !== ws) return
      this.ws = undefined
      this.trail.helloLost()
      if (this.heartbeat) clearInterval(this.heartbeat)
      // The pool re-queues what we were doing; finishing it here would only waste the machine.
      this.jobs.abortAll()
      if (this.state === "draining" || this.state === "stopped") return
      if (ev.code === CLOSE_TOKEN_REVOKED) return this.revoked(poolUrl, ev.reason)
      if (this.onPrimary()) this.failover?.primaryLost()
      else {
        // A peer we failed over to went away too: back to retrying the primary (the tier clock keeps running).
        this.audit("peer_lost", { peer: poolUrl })
        this.url = this.primaryUrl
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

  /** The pool revoked our token: say so once, stop knocking, wait for a new token in the configuration. */
  private revoked(poolUrl: string, reason: string) {
    this.setState("revoked")
    this.url = this.primaryUrl
    log.error(
      `the pool ${poolUrl} revoked this worker's token (${reason || "worker token revoked"}); not reconnecting until the token in the configuration changes (enrol this machine again) or the worker is restarted with a new one`,
    )
    this.audit("token_revoked", { pool: poolUrl })
    if (!this.opts.reloadToken || this.tokenTimer) return
    this.tokenTimer = setInterval(() => {
      let next: string | undefined
      try {
        next = this.opts.reloadToken?.()
      } catch (e) {
        log.debug(`configuration not readable yet: ${(e as Error).message}`)
      }
      if (!next || next === this.token || this.state !== "revoked") return
      clearInterval(this.tokenTimer)
      this.tokenTimer = undefined
      log.info("the worker's token changed in its configuration; connecting again")
      this.token = next
      // A worker id belongs to the token that first presented it: a re-enrolled machine joins with a new one.
      this.identity = loadOrCreateIdentity(this.opts.dataDir, next)
      this.attempt = 0
      this.setState("connecting")
      this.connect()
    }, TOKEN_POLL_MS)
  }

  private send(msg: WorkerMessage) {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(msg))
  }

  /** Activity, load and the audit events the pool has not heard yet. */
  private sendHeartbeat(events = this.trail.drain()) {
    // Drained events must not vanish with a heartbeat that cannot leave: back in the queue.
    if (this.ws?.readyState !== WebSocket.OPEN) {
      if (events) this.trail.requeue(events)
      return
    }
    const runtime = this.runtime.report
    const pool_rtts = this.rtts.take()
    this.send({ type: "heartbeat", activity: this.activity(), busy: this.jobs.busy(), events, runtime, pool_rtts })
  }

  private onMessage(raw: string) {
    let msg: PoolMessage
    try {
      msg = JSON.parse(raw)
    } catch {
      return log.warn("pool sent a non-JSON message")
    }
    switch (msg.type) {
      case "welcome":
        return this.welcomed(msg)
      case "self_update":
        void this.update.offer(msg, this.url)
        return
      case "job":
        this.jobs.run(msg)
        return
      case "cancel":
        this.jobs.cancel(msg.job_id)
        return
      case "runtime_flags":
        void this.runtime.apply(msg.flags).then(() => this.sendHeartbeat())
        return
      case "error":
        log.error(`pool says ${msg.code}: ${msg.message}`)
        // An older pool refuses v2 in hello: speak v1 to it (it then never sends v2 messages).
        if (this.helloVersion > 1 && /unsupported protocol version/.test(msg.message)) this.helloVersion = 1
        return
      case "migrate_pool":
        void this.migration.start(msg).catch((e) => log.error(`migration failed: ${(e as Error).message}`))
        return
      case "bye":
        log.warn(`pool is leaving: ${msg.reason}`)
        return
    }
  }

  private welcomed(msg: Extract<PoolMessage, { type: "welcome" }>) {
    this.attempt = 0
    this.trail.welcomed()
    this.setState("running")
    log.info(`joined pool ${msg.pool_name} at ${this.url} as ${msg.worker_id}`)
    this.migration.welcomed(this.url)
    this.rtts.configure([this.url, ...(msg.peer_pool_urls ?? [])], msg.latency_probe_ms)
    if (this.onPrimary()) {
      this.failover?.primaryJoined(msg.peer_pool_urls)
      this.releaseKeys.primaryJoined(msg.peer_release_keys)
      if (msg.activity_policy && this.monitor) this.applyPolicy(this.monitor, msg.activity_policy)
    } else {
      this.audit("serving_from_peer", { peer: this.url, pool_name: msg.pool_name, primary: this.primaryUrl })
      this.failover?.startSticky()
    }
    if (msg.runtime_flags) void this.runtime.apply(msg.runtime_flags).then(() => this.sendHeartbeat())
    if (this.heartbeat) clearInterval(this.heartbeat)
    this.heartbeat = setInterval(() => this.sendHeartbeat(), msg.heartbeat_ms || this.opts.heartbeatMs)
    // Events recorded while no pool listened (FAILING, DOWN…) reach this pool's audit log now.
    const pending = this.trail.drain()
    if (pending) this.sendHeartbeat(pending)
    this.connectedOnce?.()
  }

  private applyPolicy(monitor: ActivityMonitor, p: ActivityPolicyMessage) {
    try {
      monitor.setPolicy({
        throttledPct: p.throttled_pct,
        busyPct: p.busy_pct,
        workingHours: p.working_hours ? parseWorkingHours(p.working_hours) : undefined,
      })
    } catch (e) {
      log.warn(`ignoring the pool's activity policy: ${(e as Error).message}`)
    }
  }

  /** Stop taking jobs, let running ones finish (up to the grace period), leave, free the engines. */
  async stop() {
    if (this.state === "stopped") return
    this.setState("draining")
    this.migration.stop()
    this.rtts.stop()
    clearTimeout(this.reconnectTimer)
    clearInterval(this.tokenTimer)
    this.failover?.stop()
    this.monitor?.stop()
    await this.jobs.drain(Date.now() + this.opts.shutdownGraceMs)
    if (this.heartbeat) clearInterval(this.heartbeat)
    // Whatever the pool's audit log has not heard yet (a self-update just installed) goes before bye.
    const ws = this.ws
    const events = ws?.readyState === WebSocket.OPEN ? this.trail.drain() : undefined
    if (events) this.sendHeartbeat(events)
    // Not sendable (no open connection): kept on disk for the next agent on this data dir.
    this.trail.persist()
    this.send({ type: "bye", reason: "worker stopping" })
    if (ws && ws.readyState !== WebSocket.CLOSED) {
      // The pool reads frames in order: its close reply means it has the heartbeat. Without that reply
      // (the process may exit right after, before the socket flushed) the events go to disk as well;
      // the pool may then hear them twice, which beats never.
      const closed = new Promise<boolean>((resolve) => {
        const t = setTimeout(() => resolve(false), 2_000)
        ws.addEventListener("close", () => {
          clearTimeout(t)
          resolve(true)
        })
      })
      ws.close(1000, "worker stopping")
      this.ws = undefined
      if (!(await closed) && events) {
        this.trail.requeue(events)
        this.trail.persist()
      }
    }
    this.ws = undefined
    await disposeEngines(this.engines)
    this.setState("stopped")
  }
}
