// GET /v1/admin/usage — what API keys consumed per day, on this pool or (scope=cluster) across the
// cluster: this pool's rows merged with every trusted peer's (core/auth/key-usage-sync.ts).
import { Elysia, t } from "elysia"
import type { PoolServices } from "../../pool/services.ts"
import { adminGuard } from "../guards.ts"

export const usageRoutes = (s: PoolServices) => {
  const keys = s.apiKeys!
  const usage = s.keyUsage!
  return (
    new Elysia()
      .use(adminGuard(s))
      // scope=cluster adds every trusted peer's rows (as far back as DAILY_DAYS) and names the pools that did not answer.
      .get(
        "/v1/admin/usage",
        async ({ query }) => {
          if (query.scope !== "cluster") return { data: await keys.usage(query.days ?? 30, query.key_id) }
          const { rows, unreachable } = await usage.clusterDaily(query.days ?? 30, query.key_id)
          return { data: rows, unreachable_pools: unreachable }
        },
        {
          query: t.Object({
            days: t.Optional(t.Numeric({ minimum: 1, maximum: 366 })),
            key_id: t.Optional(t.String({ format: "uuid" })),
            scope: t.Optional(t.Union([t.Literal("pool"), t.Literal("cluster")])),
          }),
        },
      )
  )
}
