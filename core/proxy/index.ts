// core/proxy — `cellule proxy`, the unified cluster entry (admin guide §3): least_conn over the pools,
// browser and admin paths sticky per client IP, retries before the first response byte, WebSocket pass-through.
// It never opens the database and never looks inside a request or a response body.
import type { Server, ServerWebSocket } from "bun"
import { existsSync, readFileSync } from "node:fs"
import { systemClock, type Clock } from "../clock.ts"
import type { Config } from "../config/index.ts"
import { ConfigError } from "../errors.ts"
import { clientIp, forwardedOrigin, peerAddress } from "../http/client-ip.ts"
import { flushAccessLog, log, syncLogLevel } from "./_log.ts"
import { forward, jsonError } from "./forward.ts"
import { HealthChecker } from "./health.ts"
import { ProxyMetrics } from "./metrics.ts"
import { normalisePoolUrl, Upstreams } from "./upstreams.ts"
import { Discovery } from "./discovery.ts"
import { closeTunnels, tunnelHandler, upgradeThrough, type WsTunnel } from "./websocket.ts"
import type { ClientView } from "./_headers.ts"
import { proxyHeaderValue, proxyIdentity } from "./identity.ts"
import { hostname } from "node:os"

export { Upstreams, Upstream } from "./upstreams.ts"
export { ProxyMetrics } from "./metrics.ts"
export { Discovery, mergeUpstreams } from "./discovery.ts"

export type ProxyConfig = Pick<
  Config,
  | "proxyHost"
  | "proxyPort"
  | "proxyUpstreams"
  | "proxyUpstreamsFile"
  | "proxyDiscover"
  | "proxyDiscoverIntervalMs"
  | "proxyMaxFails"
  | "proxyFailTimeoutMs"
  | "proxyHealthIntervalMs"
  | "proxyReadTimeoutMs"
  | "proxyConnectTimeoutMs"
  | "proxyMaxBodyBytes"
  | "trustedProxies"
  | "shutdownGraceMs"
  | "proxyTlsCert"
  | "proxyTlsKey"
>

/**
 * Whether a path stays on one pool per client. A dashboard session, its CSRF token and a wizard in
 * progress live in one pool's database, so every browser path is sticky (pages, their live updates,
 * forms, sign-in, one-time links, assets) and so is the admin API. Only machine traffic spreads
 * least-conn: the OpenAI-compatible API and the rest of /v1/ (health check, installers, pool-to-pool)
 * and the worker socket /ws. install/nginx/cellule-entry.conf applies the same rule.
 */
export function isSticky(pathname: string): boolean {
  if (pathname === "/ws" || pathname.startsWith("/ws/")) return false
  if (pathname === "/v1" || pathname.startsWith("/v1/")) return /^\/v1\/admin(\/|$)/.test(pathname)
  return true
}

/** The pool list: CELLULE_PROXY_UPSTREAMS, then the upstreams file (one URL per line, # comments). */
export function upstreamList(config: Pick<ProxyConfig, "proxyUpstreams" | "proxyUpstreamsFile">): string[] {
  const urls = config.proxyUpstreams.map((u) => normalisePoolUrl(u, "CELLULE_PROXY_UPSTREAMS"))
  if (config.proxyUpstreamsFile) {
    let text: string
    try {
      text = readFileSync(config.proxyUpstreamsFile, "utf8")
    } catch (e) {
      throw new ConfigError(
        `CELLULE_PROXY_UPSTREAMS_FILE: cannot read ${config.proxyUpstreamsFile} (${(e as Error).message})`,
      )
    }
    for (const l of text.split("\n")) {
      const s = l.replace(/#.*/, "").trim()
      if (s) urls.push(normalisePoolUrl(s, config.proxyUpstreamsFile))
    }
  }
  const unique = [...new Set(urls)]
  if (!unique.length)
    throw new ConfigError(
      "the proxy needs at least one pool: set CELLULE_PROXY_UPSTREAMS or --upstream",
      "e.g. --upstream http://10.0.0.11:18081 --upstream http://10.0.0.12:18082",
    )
  return unique
}

export interface Proxy {
  url: string
  port: number
  upstreams: Upstreams
  metrics: ProxyMetrics
  health: HealthChecker
  /** Pools found through the upstreams' federation; set with CELLULE_PROXY_DISCOVER. */
  discovery?: Discovery
  /** Re-read the upstream list (SIGHUP). */
  reload(): void
  stop(): Promise<void>
}

export async function startProxy(config: ProxyConfig, opts: { clock?: Clock } = {}): Promise<Proxy> {
  const clock = opts.clock ?? systemClock
  // Module-level loggers are created before the command sets the level: take it up now.
  syncLogLevel()
  const staticUrls = upstreamList(config)
  const upstreams = new Upstreams(staticUrls, clock, {
    maxFails: config.proxyMaxFails,
    failTimeoutMs: config.proxyFailTimeoutMs,
  })
  const metrics = new ProxyMetrics()
  const health = new HealthChecker(upstreams, clock, {
    intervalMs: config.proxyHealthIntervalMs,
    timeoutMs: config.proxyConnectTimeoutMs,
  })
  const discovery = config.proxyDiscover
    ? new Discovery(upstreams, staticUrls, clock, {
        intervalMs: config.proxyDiscoverIntervalMs,
        timeoutMs: config.proxyConnectTimeoutMs,
      })
    : undefined
  const trusted = config.trustedProxies
  const sockets = new Set<ServerWebSocket<WsTunnel>>()
  const deps = {
    upstreams,
    metrics,
    readTimeoutMs: config.proxyReadTimeoutMs,
    maxBodyBytes: config.proxyMaxBodyBytes,
    connectTimeoutMs: config.proxyConnectTimeoutMs,
  }
  let stopping = false
  if (!!config.proxyTlsCert !== !!config.proxyTlsKey)
    throw new ConfigError(
      "CELLULE_PROXY_TLS_CERT and CELLULE_PROXY_TLS_KEY go together",
      "set both for HTTPS, or neither",
    )
  for (const f of [config.proxyTlsCert, config.proxyTlsKey])
    if (f && !existsSync(f)) throw new ConfigError(`TLS file not found: ${f}`)
  const tls = config.proxyTlsCert
    ? { cert: Bun.file(config.proxyTlsCert), key: Bun.file(config.proxyTlsKey!) }
    : undefined

  const view = (req: Request, srv: Server<WsTunnel>): ClientView => {
    // The three readings of the peer share one requestIP (peerAddress keeps it per request).
    const peer = peerAddress(req, srv) ?? "unknown"
    const origin = forwardedOrigin(req, srv, config)
    return {
      peer,
      ip: clientIp(req, srv, config) ?? peer,
      peerTrusted: trusted.has(peer),
      proto: origin.proto,
      host: origin.host,
    }
  }

  const server = Bun.serve<WsTunnel>({
    hostname: config.proxyHost,
    port: config.proxyPort,
    tls,
    // Idle keep-alive connections; a request in progress lifts the limit for itself (see below).
    idleTimeout: 75,
    // The body cap is ours (forward.ts), so the client gets a JSON 413 rather than a bare one.
    maxRequestBodySize: Number.MAX_SAFE_INTEGER,
    async fetch(req, srv) {
      const url = new URL(req.url)
      if (url.pathname === "/metrics" && req.method === "GET") {
        const now = clock.now()
        return new Response(
          metrics.render(upstreams.all().map((u) => ({ url: u.url, up: u.available(now), inFlight: u.inFlight }))),
          {
            headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" },
          },
        )
      }
      if (stopping) return jsonError(503, "proxy_stopping", "the proxy is shutting down")
      // Long generations: the pool's silence is bounded by the read timeout, not by the listener.
      srv.timeout(req, 0)
      const client = view(req, srv)
      const sticky = isSticky(url.pathname) ? client.ip : undefined
      if (req.headers.get("upgrade")?.toLowerCase() === "websocket")
        return upgradeThrough(req, srv, client, sticky, deps) as Promise<Response>
      return forward(req, url, client, sticky, deps)
    },
    websocket: tunnelHandler(metrics, sockets),
  })
  const url = `${tls ? "https" : "http"}://${config.proxyHost === "0.0.0.0" ? "127.0.0.1" : config.proxyHost}:${server.port}`
  // Named on every health check: the pools list the proxies that reach them (Overview, "proxies seen").
  health.identity = proxyHeaderValue(
    proxyIdentity(hostname(), `${tls ? "https" : "http"}://${config.proxyHost}:${server.port}`),
  )
  health.start()
  discovery?.start()
  log.info(
    `proxy listening on ${config.proxyHost}:${server.port}, pools: ${upstreams
      .all()
      .map((u) => u.url)
      .join(", ")}`,
  )

  return {
    url,
    port: server.port!,
    upstreams,
    metrics,
    health,
    discovery,
    reload() {
      try {
        const list = upstreamList(config)
        // With discovery, the pools it found stay (until its next answer says otherwise).
        if (discovery) discovery.setStatic(list)
        else upstreams.replace(list)
        log.info(`upstreams reloaded: ${list.join(", ")}`)
      } catch (e) {
        log.error(`upstream reload refused, keeping the current list: ${(e as Error).message}`)
      }
    },
    async stop() {
      if (stopping) return
      stopping = true
      log.info("proxy stopping: no new requests, waiting for those in flight")
      void server.stop(false)
      await Promise.all([health.stop(), discovery?.stop()])
      const deadline = Date.now() + config.shutdownGraceMs
      while (metrics.inFlight > 0 && Date.now() < deadline) await Bun.sleep(50)
      if (metrics.inFlight > 0)
        log.warn(`cutting ${metrics.inFlight} request(s) still running after ${config.shutdownGraceMs} ms`)
      closeTunnels(sockets, "proxy shutting down")
      await server.stop(true)
      flushAccessLog()
      log.info("proxy stopped")
    },
  }
}
