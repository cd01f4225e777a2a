// core/http/server — the Bun listener: HTTP through the Elysia app, WebSocket upgrades handed to
// the domain that owns them, and a graceful stop that lets in-flight requests finish.
import type { Server, ServerWebSocket, WebSocketHandler } from "bun"
import { logger } from "../log.ts"
import { handle, type buildApp } from "./app.ts"
import { CelluleError } from "../errors.ts"
import { validHost } from "./public-origin.ts"
import { jsonError, toCelluleError } from "./errors.ts"
import { withSecurityHeaders } from "./headers.ts"
import { stamp } from "../metrics/ttft-trace.ts"
import { pathOf } from "./request-path.ts"

const log = logger("http")

export interface WsRoute<T> {
  path: string
  /** Return the socket's data to accept the upgrade; throw a CelluleError to refuse it (mapped to JSON here). */
  upgrade(req: Request, server: Server<T>): Promise<T> | T
  handler: WebSocketHandler<T>
}

export interface HttpServer {
  port: number
  server: Server<any>
  stop(graceMs: number): Promise<void>
}

export function startServer(opts: {
  host: string
  port: number
  app: ReturnType<typeof buildApp>
  ws?: WsRoute<any>
  /** Ceiling for any body (default 256 MiB); the pool raises it to its model upload limit. */
  maxRequestBodySize?: number
  /** Called with each answered request's path, status, method and time to the response head (ms); must not await. */
  onResponse?: (pathname: string, status: number, method: string, ms: number) => void
}): HttpServer {
  const { app, ws } = opts
  let stopping = false
  // The last Host that passed validHost: nearly every request repeats it, and the check splits strings.
  let validatedHost: string | undefined
  const server = Bun.serve({
    hostname: opts.host,
    port: opts.port,
    // Long generations may stay quiet while queued; streams send keep-alives themselves.
    idleTimeout: 255,
    // Hard ceiling for any body; JSON routes enforce their own, smaller limit (413), and the one route
    // that takes more (a streamed GGUF upload, core/http/routes/model-catalogue.ts) checks its own.
    maxRequestBodySize: Math.max(256 * 1024 * 1024, opts.maxRequestBodySize ?? 0),
    async fetch(req, srv) {
      stamp(req, "recv")
      // A Host no URL can carry (spaces, quotes, a bad port) is refused here, once: every route, hook
      // and script template downstream may then trust that request.url parses.
      const host = req.headers.get("host")
      if (host !== null && host !== validatedHost) {
        if (!validHost(host))
          return withSecurityHeaders(
            jsonError(new CelluleError("host_invalid", "the Host header is not a valid host[:port]", 400)),
          )
        validatedHost = host
      }
      if (ws && pathOf(req) === ws.path && req.headers.get("upgrade")?.toLowerCase() === "websocket") {
        if (stopping) return new Response("shutting down", { status: 503 })
        let data: any
        try {
          data = await ws.upgrade(req, srv as Server<any>)
        } catch (e) {
          return withSecurityHeaders(jsonError(toCelluleError("UPGRADE", e, "ws")))
        }
        if (srv.upgrade(req, { data })) return undefined as unknown as Response
        return new Response("websocket upgrade failed", { status: 400 })
      }
      const t0 = performance.now()
      const res = await handle(app, req)
      stamp(req, "response")
      opts.onResponse?.(pathOf(req), res.status, req.method, performance.now() - t0)
      return res
    },
    websocket: ws?.handler ?? { message() {} },
  })
  // app.handle() alone leaves Elysia's `server` null; guards and routes need server.requestIP().
  app.server = server
  return {
    port: server.port!,
    server,
    async stop(graceMs: number) {
      if (stopping) return
      stopping = true
      // Stop accepting, then give in-flight requests the grace period before cutting them.
      void server.stop(false)
      const deadline = Date.now() + graceMs
      while (server.pendingRequests > 0 && Date.now() < deadline) await Bun.sleep(50)
      if (server.pendingRequests > 0)
        log.warn(`cutting ${server.pendingRequests} request(s) still running after ${graceMs} ms`)
      await server.stop(true)
    },
  }
}

export type { ServerWebSocket }
