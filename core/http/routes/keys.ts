// /v1/admin/keys and /v1/admin/usage — virtual API keys (shown once) and what they consumed, on this
// pool or across the cluster.
import { Elysia, t } from "elysia"
import type { ApiKeys } from "../../auth/api-keys.ts"
import type { AnonymousAccess } from "../../auth/anonymous-access.ts"
import type { KeyUsageSync } from "../../auth/key-usage-sync.ts"
import { adminGuard } from "../guards.ts"
import type { PoolContext } from "../context.ts"

export const keyRoutes = (keys: ApiKeys, anonymous: AnonymousAccess, usage: KeyUsageSync) => (ctx: PoolContext) =>
  new Elysia()
    .use(adminGuard(ctx))
    .post(
      "/v1/admin/keys",
      async ({ body, set }) => {
        const { key, record } = await keys.create(body)
        set.status = 201
        // The only time the secret is ever shown.
        return { ...record, key }
      },
      {
        body: t.Object({
          name: t.String({ minLength: 1, maxLength: 100 }),
          project: t.Optional(t.String({ maxLength: 100 })),
          models: t.Optional(t.Array(t.String({ minLength: 1 }), { minItems: 1 })),
          rpm: t.Optional(t.Integer({ minimum: 1 })),
          tpm: t.Optional(t.Integer({ minimum: 1 })),
          monthly_token_budget: t.Optional(t.Integer({ minimum: 1 })),
          priority: t.Optional(t.Union([t.Literal("interactive"), t.Literal("batch")])),
        }),
      },
    )
    .get("/v1/admin/keys", async () => ({ data: await keys.list() }))
    .delete(
      "/v1/admin/keys/:id",
      async ({ params, set }) => {
        await keys.revoke(params.id)
        set.status = 204
        return ""
      },
      { params: t.Object({ id: t.String({ format: "uuid" }) }) },
    )
    // The cluster-wide switch for calls without a key (off by default).
    .get("/v1/admin/anonymous-access", () => anonymous.state())
    .put("/v1/admin/anonymous-access", ({ body }) => anonymous.set(body.enabled), {
      body: t.Object({ enabled: t.Boolean() }),
    })
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
