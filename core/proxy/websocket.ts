// core/proxy/websocket — WebSocket upgrades passed through to a pool (workers joining over /ws, live
// dashboard events). The pool's socket is opened first, so a dead pool is skipped before the client
// is answered; then messages are relayed both ways as they are, close codes included.
import type { Server, ServerWebSocket, WebSocketHandler } from "bun"
import { access as log } from "./_log.ts"
import { jsonError } from "./forward.ts"
import { stripHopByHop, upstreamRequestHeaders, type ClientView } from "./_headers.ts"
import type { ProxyMetrics } from "./metrics.ts"
import type { Upstream, Upstreams } from "./upstreams.ts"

export interface WsTunnel {
  upstream: WebSocket
  pool: Upstream
  line: string
  /** Messages from the pool that arrived before the client side opened. */
  early: (string | ArrayBuffer)[]
  client?: ServerWebSocket<WsTunnel>
}

export interface WsDeps {
  upstreams: Upstreams
  metrics: ProxyMetrics
  connectTimeoutMs: number
}

// Codes an endpoint may not send itself (RFC 6455 §7.4.1): relay them as a plain close.
function sendableCode(code: number): number {
  // An abnormal end (the pool died) becomes 1001 "going away": workers reconnect, through us, elsewhere.
  if (code === 1006) return 1001
  return code === 1005 || code === 1015 || code < 1000 || code >= 5000 ? 1000 : code
}

function openUpstream(url: string, headers: Headers, protocols: string[], timeoutMs: number): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const h: Record<string, string> = {}
    headers.forEach((v, k) => {
      if (!k.startsWith("sec-websocket-")) h[k] = v
    })
    // Bun's WebSocket client takes headers: tokens travel as they came, never in a URL.
    const ws = new WebSocket(url, { headers: h, protocols } as unknown as string[])
    ws.binaryType = "arraybuffer"
    const timer = setTimeout(() => {
      ws.close()
      reject(new Error("connect timeout"))
    }, timeoutMs)
    ws.onopen = () => {
      clearTimeout(timer)
      ws.onerror = null
      resolve(ws)
    }
    ws.onerror = (ev) => {
      clearTimeout(timer)
      reject(new Error((ev as unknown as { message?: string }).message ?? "websocket error"))
    }
  })
}

/** Upgrade `req` through the first pool that accepts it; a pool's refusal (401, 403) is relayed as is. */
export async function upgradeThrough(
  req: Request,
  server: Server<WsTunnel>,
  client: ClientView,
  stickyKey: string | undefined,
  deps: WsDeps,
): Promise<Response | undefined> {
  const url = new URL(req.url)
  const target = url.pathname + url.search
  const line = `${client.ip} "WS ${url.pathname}"`
  const protocols = (req.headers.get("sec-websocket-protocol") ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)
  const headers = upstreamRequestHeaders(req.headers, client)
  let lastError = "no pool configured"
  // Long-lived sockets (workers) are spread by how many each pool already holds, not by requests.
  for (const u of deps.upstreams.plan(stickyKey, "tunnels")) {
    const wsUrl = u.url.replace(/^http/, "ws") + target
    let upstream: WebSocket
    try {
      upstream = await openUpstream(wsUrl, headers, protocols, deps.connectTimeoutMs)
    } catch (e) {
      const msg = (e as Error).message
      const refused = msg.match(/Expected 101 status code: (\d+)/)
      if (refused && Number(refused[1]) < 500) {
        // The pool answered and said no (bad token): ask again over plain HTTP to relay its exact answer.
        const probe = await fetch(u.url + target, {
          headers: {
            ...Object.fromEntries(headers as unknown as Iterable<[string, string]>),
            connection: "Upgrade",
            upgrade: "websocket",
            "sec-websocket-version": "13",
            "sec-websocket-key": btoa(crypto.randomUUID().slice(0, 16)),
          },
          redirect: "manual",
        }).catch(() => undefined)
        log.info(`${line} ${refused[1]} refused by upstream=${u.url}`)
        if (probe && probe.status !== 101)
          return new Response(probe.body, { status: probe.status, headers: stripHopByHop(new Headers(probe.headers)) })
        return jsonError(Number(refused[1]), "upstream_refused", `the pool refused the WebSocket (${refused[1]})`)
      }
      lastError = `${u.url}: ${msg}`
      deps.upstreams.fail(u, msg)
      deps.metrics.failure(u.url)
      deps.metrics.retry(u.url)
      continue
    }
    const data: WsTunnel = { upstream, pool: u, line: `${line} upstream=${u.url}`, early: [] }
    upstream.onmessage = (ev) => {
      if (data.client) data.client.send(ev.data as string | ArrayBuffer)
      else data.early.push(ev.data as string | ArrayBuffer)
    }
    upstream.onclose = (ev) => {
      if (data.client && data.client.readyState <= 1) data.client.close(sendableCode(ev.code), ev.reason)
      else if (!data.client) data.early.length = 0
    }
    const extra: Record<string, string> = upstream.protocol ? { "sec-websocket-protocol": upstream.protocol } : {}
    if (server.upgrade(req, { data, headers: extra })) return undefined
    upstream.close(1011, "client upgrade failed")
    return jsonError(400, "websocket_upgrade_failed", "the WebSocket upgrade failed")
  }
  log.warn(`${line} 502 no pool took the WebSocket (${lastError})`)
  return jsonError(502, "upstream_unavailable", `no pool could take the WebSocket (${lastError})`)
}

export function tunnelHandler(
  metrics: ProxyMetrics,
  sockets: Set<ServerWebSocket<WsTunnel>>,
): WebSocketHandler<WsTunnel> {
  return {
    open(ws) {
      const t = ws.data
      sockets.add(ws)
      metrics.websockets++
      t.pool.tunnels++
      t.client = ws
      log.info(`${t.line} open`)
      for (const m of t.early.splice(0)) ws.send(m)
      // The pool hung up between its open and ours.
      if (t.upstream.readyState > 1) ws.close(1011, "pool went away")
    },
    message(ws, msg) {
      const up = ws.data.upstream
      if (up.readyState === 1) up.send(msg)
    },
    close(ws, code, reason) {
      const t = ws.data
      sockets.delete(ws)
      metrics.websockets--
      t.pool.tunnels--
      log.info(`${t.line} closed ${code}`)
      if (t.upstream.readyState <= 1) t.upstream.close(sendableCode(code), reason)
    },
  }
}

/** Close every tunnel (graceful stop): 1001 tells workers to reconnect. */
export function closeTunnels(sockets: Set<ServerWebSocket<WsTunnel>>, reason: string) {
  for (const ws of sockets) ws.close(1001, reason)
}
