// /v1/admin/migration-orders — worker migration orders (admin guide §4.6.1–4.6.2): state and history,
// a manual move `{worker_id, target_pool}`, approve/reject of an order still `issued`. The domain
// (core/workers/migration/orders.ts) audits and logs every transition.
// Licence: a manual move is the administrator's own decision (§4.6.1, failover-grade tooling every
// pool has), so it is not gated; the automatic balancer that *emits* orders needs feature `balancer`
// (§7.4), checked where the balancer runs, not here.
import { Elysia, t } from "elysia"
import type { PoolServices } from "../../pool/services.ts"
import { adminActor, audited } from "../audit-trail.ts"
import { adminGuard } from "../guards.ts"

export const migrationOrderRoutes = (s: PoolServices) => {
  const orders = s.migrations!
  return (
    new Elysia()
      .use(adminGuard(s))
      .get("/v1/admin/migration-orders", async () => ({ data: await orders.list() }))
      .post(
        "/v1/admin/migration-orders",
        async ({ body, set, admin }) => {
          const actor = adminActor(admin)
          set.status = 201
          return orders.issue({ ...body, reason: body.reason ?? "manual", issued_by: actor.id, actor })
        },
        {
          body: t.Object({
            worker_id: t.String({ minLength: 1, maxLength: 200 }),
            target_pool: t.String({ minLength: 1, maxLength: 200 }),
            reason: t.Optional(t.String({ maxLength: 500 })),
            id: t.Optional(t.String({ format: "uuid" })),
          }),
        },
      )
      .post(
        "/v1/admin/migration-orders/:id/approve",
        ({ params, admin }) => orders.approve(params.id, adminActor(admin)),
        {
          params: t.Object({ id: t.String({ format: "uuid" }) }),
        },
      )
      .post(
        "/v1/admin/migration-orders/:id/reject",
        ({ params, admin }) => orders.reject(params.id, adminActor(admin)),
        {
          params: t.Object({ id: t.String({ format: "uuid" }) }),
        },
      )
      // The home_pool pin (§4.2): pinned workers are never moved by the balancer; manual moves stay allowed.
      .get("/v1/admin/worker-pins", async () => ({ data: await s.pins!.list() }))
      .put(
        "/v1/admin/workers/:id/home-pool",
        ({ params, body, admin, request, server }) =>
          audited(
            s,
            { actor: adminActor(admin), request, server },
            { action: "worker.pin", target: `worker:${params.id}`, details: { home_pool: body.home_pool } },
            () => s.pins!.set(params.id, body.home_pool),
          ),
        {
          params: t.Object({ id: t.String({ minLength: 1, maxLength: 200 }) }),
          body: t.Object({ home_pool: t.Union([t.String({ pattern: "^atom_[0-9a-f]{32}$" }), t.Null()]) }),
        },
      )
  )
}
