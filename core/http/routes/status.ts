// GET /v1/status — the health check (Docker HEALTHCHECK, proxies). Never behind any gate. A `cellule
// proxy` names itself in X-Cellule-Proxy: the pool keeps it among the proxies seen (Overview).
import { Elysia } from "elysia"
import type { PoolServices } from "../../pool/services.ts"
import { VERSION } from "../../version.ts"
import { peerAddress } from "../client-ip.ts"
import { parseProxyHeader, PROXY_HEADER } from "../../proxy/identity.ts"

export const statusRoutes = (s: PoolServices) =>
  new Elysia().get("/v1/status", async ({ set, request, server }) => {
    const proxy = parseProxyHeader(request.headers.get(PROXY_HEADER))
    if (proxy) s.proxiesSeen.record(proxy, peerAddress(request, server) ?? "unknown")
    const dbOk = await s.health.ping()
    set.status = dbOk ? 200 : 503
    return {
      status: dbOk ? "ok" : "degraded",
      version: VERSION,
      pool_name: s.config.poolName,
      db: dbOk ? "ok" : "unreachable",
      db_mode: s.health.mode,
      // The pool's clock, for `cellule doctor`'s skew check between pools.
      time: new Date(s.clock.now()).toISOString(),
      uptime_s: Math.round((s.clock.now() - s.startedAt) / 1000),
      ...(s.health.extra?.() ?? {}),
    }
  })
