// GET /v1/status — the health check (Docker HEALTHCHECK, proxies). Never behind any gate.
import { Elysia } from "elysia"
import type { PoolServices } from "../../pool/services.ts"
import { VERSION } from "../../version.ts"

export const statusRoutes = (s: PoolServices) =>
  new Elysia().get("/v1/status", async ({ set }) => {
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
