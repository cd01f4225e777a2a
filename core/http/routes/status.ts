// GET /v1/status — the health check (Docker HEALTHCHECK, proxies). Never behind any gate.
import { Elysia } from "elysia"
import type { PoolContext } from "../context.ts"
import { VERSION } from "../../version.ts"

export const statusRoutes = (ctx: PoolContext) =>
  new Elysia().get("/v1/status", async ({ set }) => {
    const dbOk = await ctx.db.ping()
    set.status = dbOk ? 200 : 503
    return {
      status: dbOk ? "ok" : "degraded",
      version: VERSION,
      pool_name: ctx.config.poolName,
      db: dbOk ? "ok" : "unreachable",
      db_mode: ctx.db.mode,
      uptime_s: Math.round((ctx.clock.now() - ctx.startedAt) / 1000),
      ...(ctx.statusExtra?.() ?? {}),
    }
  })
