// core/workers/hub — the pool side of /ws: authenticates workers, speaks the protocol and feeds
// the scheduler. Knows sockets only through send/close, so the scheduler stays I/O-free.
import type { Server, ServerWebSocket, WebSocketHandler } from "bun"
import { tokenMatches, hashToken } from "../crypto/token.ts"
import { logger } from "../log.ts"
import { Unauthorized } from "../errors.ts"
import {
  CLOSE,
  LIMITS,
  negotiatedVersion,
  ProtocolError,
  ProtocolLimit,
  parseWorkerMessage,
  type ActivityPolicyMessage,
  type PoolMessage,
  type PoolRtts,
  type RuntimeFlags,
  type UpgradeOffer,
  type WorkerEvent,
  type WorkerMessage,
} from "./protocol.ts"
import type { Scheduler, WorkerLink, WorkerState } from "../scheduler/scheduler.ts"

const log = logger("workers")

export interface WsData {
  remote: string
  worker?: WorkerState
  link?: WorkerLink
  helloTimer?: ReturnType<typeof setTimeout>
  /** The per-worker token this socket authenticated with (undefined: the shared join token). */
  tokenId?: number
  /** Presented a revoked token: accepted only to be told so (close 4003), never served. */
  revoked?: boolean
  /** Frames received while the hello's worker id is being checked, handled once it is. */
  pending?: WorkerMessage[]
}

export interface HubOptions {
  scheduler: Scheduler
  poolName: string
  heartbeatMs: number
  /** Join token from the configuration; unset means no worker can join. */
  workerToken?: string
  peerPoolUrls?: () => string[]
  /** Release public keys of the trusted peers by URL: welcome.peer_release_keys. */
  peerReleaseKeys?: () => Record<string, string>
  /** Per-worker tokens from provisioning: the live token id, or null when unknown or revoked. */
  resolveWorkerToken?: (presented: string) => Promise<number | null>
  /** A presented token this pool revoked: the worker is told why (close 4003) instead of a bare 401. */
  isRevokedWorkerToken?: (presented: string) => Promise<boolean>
  /** Worker-reported events (failover transitions…) and connections, for the audit log. */
  onWorkerEvents?: (worker: string, tokenId: number | undefined, events: WorkerEvent[]) => void
  /** An upgrade for a worker that says hello with this version, or undefined (up to date, cooling down, disabled). */
  activityPolicy?: () => ActivityPolicyMessage | undefined
  upgradeFor?: (hello: Extract<WorkerMessage, { type: "hello" }>) => Promise<UpgradeOffer | undefined>
  /** The runtime flags an admin set for a hardware class (Advanced settings): sent in welcome. */
  runtimeFlags?: (hardwareClass: string) => RuntimeFlags | undefined
  /** Whether this worker id belongs to this token (binding it on first use); absent: every id is free. */
  claimWorkerId?: (workerId: string, tokenId: number | undefined) => Promise<boolean>
  /** §4.8 latency routing (core/workers/migration/latency.ts): fed each handshake and each probe round. */
  latency?: {
    /** welcome.latency_probe_ms; undefined while routing is off (workers then measure nothing). */
    probeMs(): number | undefined
    hello(workerId: string, address: string, rtts?: PoolRtts, movedMsAgo?: number): Promise<unknown>
    heartbeat(workerId: string, rtts: PoolRtts): Promise<unknown>
    gone(workerId: string): void
  }
}

/** Close code 4003 + an error frame: the worker stops retrying until its token changes (docs/protocol.md). */
function revokedClose(ws: ServerWebSocket<WsData>, reason = "worker token revoked") {
  ws.send(JSON.stringify({ type: "error", code: "worker_token_revoked", message: reason } satisfies PoolMessage))
  ws.close(CLOSE.tokenRevoked, reason)
}

export function workerHub(opts: HubOptions) {
  const tokenHash = opts.workerToken ? hashToken(opts.workerToken) : undefined
  const sockets = new Set<ServerWebSocket<WsData>>()
  /** Connections closed per revoked token (one entry per revoked token that had any: tokens are revoked once). */
  const closedByRevocation = new Map<number, number>()

  async function welcome(ws: ServerWebSocket<WsData>, msg: Extract<WorkerMessage, { type: "hello" }>) {
    // An upgrade check that fails must not keep the worker from joining.
    const upgrade = await Promise.resolve(opts.upgradeFor?.(msg)).catch(
      (e) => void log.warn(`upgrade check for ${msg.name} failed: ${(e as Error).message}`),
    )
    const policy = opts.activityPolicy?.()
    const flags = msg.hardware_class ? opts.runtimeFlags?.(msg.hardware_class) : undefined
    const probeMs = opts.latency?.probeMs()
    ws.send(
      JSON.stringify({
        type: "welcome",
        v: negotiatedVersion(msg.v),
        pool_name: opts.poolName,
        worker_id: msg.worker_id,
        heartbeat_ms: opts.heartbeatMs,
        peer_pool_urls: opts.peerPoolUrls?.() ?? [],
        peer_release_keys: opts.peerReleaseKeys?.() ?? {},
        ...(upgrade ? { upgrade } : {}),
        ...(policy ? { activity_policy: policy } : {}),
        ...(flags ? { runtime_flags: flags } : {}),
        ...(probeMs ? { latency_probe_ms: probeMs } : {}),
      } satisfies PoolMessage),
    )
    if (upgrade) ws.send(JSON.stringify({ type: "self_update", ...upgrade } satisfies PoolMessage))
    opts.onWorkerEvents?.(msg.name, ws.data.tokenId, [
      {
        at: Date.now(),
        event: "connected",
        detail: { version: msg.version, hardware_class: msg.hardware_class, worker_id: msg.worker_id },
      },
      ...(msg.events ?? []),
    ])
  }

  /** A hello: the worker id must belong to this socket's token before the scheduler hears of it. */
  async function admit(ws: ServerWebSocket<WsData>, msg: Extract<WorkerMessage, { type: "hello" }>) {
    const owned = opts.claimWorkerId ? await opts.claimWorkerId(msg.worker_id, ws.data.tokenId) : true
    if (ws.readyState !== 1) return
    if (!owned) {
      const who = ws.data.tokenId === undefined ? "the shared join token" : `worker token ${ws.data.tokenId}`
      log.warn(
        `refused ${who} from ${ws.data.remote}: worker id ${msg.worker_id} belongs to another token (worker_id_taken)`,
      )
      opts.onWorkerEvents?.(msg.name, ws.data.tokenId, [
        { at: Date.now(), event: "worker_id_taken", detail: { worker_id: msg.worker_id, remote: ws.data.remote } },
      ])
      ws.send(
        JSON.stringify({
          type: "error",
          code: "worker_id_taken",
          message: "this worker id belongs to another worker token",
        } satisfies PoolMessage),
      )
      ws.close(CLOSE.workerIdTaken, "worker id belongs to another token")
      return
    }
    ws.data.worker = opts.scheduler.addWorker(msg, ws.data.link!)
    // Latency routing after the welcome: a migrate_pool the order leads to reaches a worker that runs.
    void welcome(ws, msg)
      .then(() => opts.latency?.hello(msg.worker_id, ws.data.remote, msg.pool_rtts, msg.moved_ms_ago))
      .catch((e) => log.error(`welcome to ${msg.name} failed: ${(e as Error).message}`))
    const queued = ws.data.pending ?? []
    ws.data.pending = undefined
    for (const m of queued) handle(ws, m)
  }

  /** A frame from a welcomed worker. */
  function handle(ws: ServerWebSocket<WsData>, msg: WorkerMessage) {
    const worker = ws.data.worker!
    if (msg.type === "hello") {
      ws.close(CLOSE.protocolError, "hello sent twice")
      return
    }
    if (msg.type === "heartbeat" && msg.events?.length) opts.onWorkerEvents?.(worker.name, ws.data.tokenId, msg.events)
    // Not awaited, so never left unhandled: Bun ends the process on an unhandled rejection (every worker with it).
    if (msg.type === "heartbeat" && msg.pool_rtts)
      opts.latency
        ?.heartbeat(worker.id, msg.pool_rtts)
        .catch((e) => log.warn(`latency routing: ${worker.name}'s report not used: ${(e as Error).message}`))
    if (msg.type === "bye") {
      opts.scheduler.removeWorker(worker.id, `said bye (${msg.reason})`, ws.data.link)
      return
    }
    opts.scheduler.onWorkerMessage(worker, msg)
  }

  const handler: WebSocketHandler<WsData> = {
    // Workers send small JSON frames; a larger one is a broken or hostile peer (Bun closes with 1009).
    maxPayloadLength: LIMITS.frameBytes,
    idleTimeout: 0,
    open(ws) {
      // A browser-less WebSocket client sees a refused upgrade only as 1006: say "revoked" in a close frame.
      if (ws.data.revoked) return revokedClose(ws)
      sockets.add(ws)
      ws.data.link = {
        send: (msg: PoolMessage) => void ws.send(JSON.stringify(msg)),
        close: (code, reason) => ws.close(code, reason),
      }
      ws.data.helloTimer = setTimeout(() => {
        if (!ws.data.worker) ws.close(CLOSE.noHello, "no hello within 10 s")
      }, 10_000)
    },
    message(ws, raw) {
      if (ws.data.revoked) return
      let msg: ReturnType<typeof parseWorkerMessage>
      try {
        // Before a hello nothing is known of the sender: refuse a large first frame without parsing it.
        const bytes = typeof raw === "string" ? Buffer.byteLength(raw) : raw.length
        if (!ws.data.worker && bytes > LIMITS.helloBytes)
          throw new ProtocolLimit(`first frame of ${bytes} bytes is over ${LIMITS.helloBytes}`)
        msg = parseWorkerMessage(raw as string)
      } catch (e) {
        const limit = e instanceof ProtocolLimit
        const message = limit || e instanceof ProtocolError ? (e as Error).message : "bad message"
        log.warn(`closing ${ws.data.worker?.name ?? ws.data.remote}: ${message}`)
        ws.send(JSON.stringify({ type: "error", code: limit ? "protocol_limit" : "protocol_error", message }))
        ws.close(limit ? CLOSE.limit : CLOSE.protocolError, limit ? "protocol limit" : "protocol error")
        return
      }
      if (ws.data.pending) {
        // Still checking the hello's worker id: keep what follows (a heartbeat on an activity change).
        if (ws.data.pending.length >= 16) ws.close(CLOSE.limit, "too many frames before welcome")
        else ws.data.pending.push(msg)
        return
      }
      if (!ws.data.worker) {
        if (msg.type !== "hello") {
          ws.close(CLOSE.protocolError, "first message must be hello")
          return
        }
        clearTimeout(ws.data.helloTimer)
        ws.data.pending = []
        void admit(ws, msg).catch((e) => {
          log.error(`admitting ${msg.name} failed: ${(e as Error).message}`)
          ws.close(1011, "internal error")
        })
        return
      }
      handle(ws, msg)
    },
    close(ws, code, reason) {
      sockets.delete(ws)
      clearTimeout(ws.data.helloTimer)
      if (ws.data.worker) opts.latency?.gone(ws.data.worker.id)
      if (ws.data.worker)
        opts.scheduler.removeWorker(
          ws.data.worker.id,
          `disconnected (${code}${reason ? ` ${reason}` : ""})`,
          ws.data.link,
        )
    },
  }

  return {
    path: "/ws",
    async upgrade(req: Request, server: Server<WsData>): Promise<WsData> {
      // Refusals are thrown: the HTTP edge (core/http/server.ts) answers them through its error mapper.
      if (!tokenHash && !opts.resolveWorkerToken)
        throw new Unauthorized(
          "this pool has no worker join token configured (CELLULE_WORKER_TOKEN)",
          "worker_join_disabled",
        )
      const auth = req.headers.get("authorization") ?? ""
      const presented = auth.startsWith("Bearer ") ? auth.slice(7).trim() : ""
      const remote = server.requestIP(req)?.address ?? "?"
      if (tokenHash && tokenMatches(presented, tokenHash)) return { remote }
      const tokenId = presented && opts.resolveWorkerToken ? await opts.resolveWorkerToken(presented) : null
      if (tokenId !== null) return { remote, tokenId }
      if (presented && (await opts.isRevokedWorkerToken?.(presented))) return { remote, revoked: true }
      throw new Unauthorized("invalid worker token", "worker_token_invalid")
    },
    handler,
    /**
     * Close the connections that authenticated with a token just revoked; answers how many this
     * token's revocation closed in all. The cluster sweep (every 500 ms) sees the committed revocation
     * too and may close them first: the admin's revoke answer still counts those.
     */
    closeToken(tokenId: number, reason = "worker token revoked") {
      let n = 0
      for (const ws of sockets) {
        if (ws.data.tokenId !== tokenId) continue
        revokedClose(ws, reason)
        n++
      }
      if (n) log.info(`closed ${n} connection(s) of revoked worker token ${tokenId}`)
      const total = (closedByRevocation.get(tokenId) ?? 0) + n
      if (total) closedByRevocation.set(tokenId, total)
      return total
    },
    /** The per-worker token ids with a live connection here. */
    liveTokenIds(): number[] {
      const ids = new Set<number>()
      for (const ws of sockets) if (ws.data.tokenId !== undefined) ids.add(ws.data.tokenId)
      return [...ids]
    },
    /** New runtime flags for a hardware class: every connected worker of that class gets them now. */
    pushRuntimeFlags(hardwareClass: string, flags: RuntimeFlags) {
      let n = 0
      for (const ws of sockets) {
        if (ws.data.worker?.hardwareClass !== hardwareClass) continue
        ws.send(JSON.stringify({ type: "runtime_flags", flags } satisfies PoolMessage))
        n++
      }
      if (n) log.info(`runtime flags for ${hardwareClass} sent to ${n} worker(s): ${JSON.stringify(flags)}`)
      return n
    },
    /** Tell every worker the pool is going away, so they reconnect elsewhere or wait. */
    closeAll(reason: string) {
      for (const ws of sockets) {
        ws.send(JSON.stringify({ type: "bye", reason } satisfies PoolMessage))
        ws.close(1001, reason)
      }
    },
  }
}
