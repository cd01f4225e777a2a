// /v1/admin/admins — the dashboard's administrators: list them, add one (licence limit max_users,
// 402 limit_reached when reached; listing is a read and never gated).
import { Elysia, t } from "elysia"
import { addAdmin, listAdmins } from "../../auth/admins.ts"
import { licenseStoreFor } from "../../license/store.ts"
import { adminGuard } from "../guards.ts"
import type { PoolContext } from "../context.ts"

export const adminRoutes = (ctx: PoolContext) =>
  new Elysia()
    .use(adminGuard(ctx))
    .get("/v1/admin/admins", async () => ({ data: await listAdmins(ctx.db.sql) }))
    .post(
      "/v1/admin/admins",
      async ({ body, set }) => {
        const admin = await addAdmin(ctx.db.sql, body.email, body.password, await licenseStoreFor(ctx).state())
        set.status = 201
        return admin
      },
      { body: t.Object({ email: t.String({ maxLength: 254 }), password: t.String({ maxLength: 1024 }) }) },
    )
