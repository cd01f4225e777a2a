// core/workers/hub — the pool side of /ws: authenticates workers, speaks the protocol and feeds
// the scheduler. Knows sockets only through send/close, so the scheduler stays I/O-free.
import type { Server, ServerWebSocket, WebSocketHandler } from "bun"
import { tokenMatches, hashToken } from "../crypto/token.ts"
import { logger } from "../log.ts"
import { PROTOCOL_VERSION, ProtocolError, parseWorkerMessage, type PoolMessage } from "./protocol.ts"
import type { Scheduler, WorkerLink, WorkerState } from "../scheduler/scheduler.ts"

const log = logger("workers")

export interface WsData {
  remote: string
  worker?: WorkerState
  link?: WorkerLink
  helloTimer?: ReturnType<typeof setTimeout>
}

export interface HubOptions {
  scheduler: Scheduler
  poolName: string
  heartbeatMs: number
  /** Join token from the configuration; unset means no worker can join. */
  workerToken?: string
  peerPoolUrls?: () => string[]
}

function jsonResponse(status: number, error: string, message: string) {
  return new Response(JSON.stringify({ error, message }), { status, headers: { "content-type": "application/json" } })
}

export function workerHub(opts: HubOptions) {
  const tokenHash = opts.workerToken ? hashToken(opts.workerToken) : undefined
  const sockets = new Set<ServerWebSocket<WsData>>()

  const handler: WebSocketHandler<WsData> = {
    // Workers send small JSON frames; a large frame is a broken or hostile peer.
    maxPayloadLength: 64 * 1024 * 1024,
    idleTimeout: 0,
    open(ws) {
      sockets.add(ws)
      ws.data.link = {
        send: (msg: PoolMessage) => void ws.send(JSON.stringify(msg)),
        close: (code, reason) => ws.close(code, reason),
      }
      ws.data.helloTimer = setTimeout(() => {
        if (!ws.data.worker) ws.close(4001, "no hello within 10 s")
      }, 10_000)
    },
    message(ws, raw) {
      let msg
      try {
        msg = parseWorkerMessage(raw as string)
      } catch (e) {
        const message = e instanceof ProtocolError ? e.message : "bad message"
        log.warn(`closing ${ws.data.worker?.name ?? ws.data.remote}: ${message}`)
        ws.send(JSON.stringify({ type: "error", code: "protocol_error", message }))
        ws.close(4002, "protocol error")
        return
      }
      if (!ws.data.worker) {
        if (msg.type !== "hello") {
          ws.close(4002, "first message must be hello")
          return
        }
        clearTimeout(ws.data.helloTimer)
        ws.data.worker = opts.scheduler.addWorker(msg, ws.data.link!)
        ws.send(
          JSON.stringify({
            type: "welcome",
            v: PROTOCOL_VERSION,
            pool_name: opts.poolName,
            worker_id: msg.worker_id,
            heartbeat_ms: opts.heartbeatMs,
            peer_pool_urls: opts.peerPoolUrls?.() ?? [],
          } satisfies PoolMessage),
        )
        return
      }
      if (msg.type === "bye") {
        opts.scheduler.removeWorker(ws.data.worker.id, `said bye (${msg.reason})`, ws.data.link)
        return
      }
      opts.scheduler.onWorkerMessage(ws.data.worker, msg)
    },
    close(ws, code, reason) {
      sockets.delete(ws)
      clearTimeout(ws.data.helloTimer)
      if (ws.data.worker) opts.scheduler.removeWorker(ws.data.worker.id, `disconnected (${code}${reason ? ` ${reason}` : ""})`, ws.data.link)
    },
  }

  return {
    path: "/ws",
    upgrade(req: Request, server: Server<WsData>): WsData | Response {
      if (!tokenHash) return jsonResponse(401, "worker_join_disabled", "this pool has no worker join token configured (CELLULE_WORKER_TOKEN)")
      const auth = req.headers.get("authorization") ?? ""
      const presented = auth.startsWith("Bearer ") ? auth.slice(7).trim() : ""
      if (!tokenMatches(presented, tokenHash)) return jsonResponse(401, "worker_token_invalid", "invalid worker token")
      return { remote: server.requestIP(req)?.address ?? "?" }
    },
    handler,
    /** Tell every worker the pool is going away, so they reconnect elsewhere or wait. */
    closeAll(reason: string) {
      for (const ws of sockets) {
        ws.send(JSON.stringify({ type: "bye", reason } satisfies PoolMessage))
        ws.close(1001, reason)
      }
    },
  }
}
