// GET /metrics — administrators only (session or X-Cellule-User from a trusted network, like every
// /v1/admin route): the pool's Prometheus metrics (core/metrics/pool.ts). docs/metrics.md.
import { Elysia } from "elysia"
import { CONTENT_TYPE } from "../../metrics/prom.ts"
import { renderPoolMetrics } from "../../metrics/pool.ts"
import type { PoolServices } from "../../pool/services.ts"
import { adminGuard } from "../guards.ts"

export const metricsRoutes = (s: PoolServices) =>
  new Elysia()
    .use(adminGuard(s))
    .get(
      "/metrics",
      async () => new Response(await renderPoolMetrics(s), { headers: { "content-type": CONTENT_TYPE } }),
    )
