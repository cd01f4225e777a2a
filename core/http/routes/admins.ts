// /v1/admin/admins — the dashboard's administrators: list them, add one (licence limit max_users,
// 402 limit_reached when reached; listing is a read and never gated).
import { Elysia, t } from "elysia"
import type { PoolServices } from "../../pool/services.ts"
import { adminActor, audited } from "../audit-trail.ts"
import { adminGuard } from "../guards.ts"

export const adminRoutes = (s: PoolServices) =>
  new Elysia()
    .use(adminGuard(s))
    .get("/v1/admin/admins", async () => ({ data: await s.admins.list() }))
    .post(
      "/v1/admin/admins",
      async ({ body, set, admin: by, request, server }) => {
        const admin = await audited(
          s,
          { actor: adminActor(by), request, server },
          { action: "admin.create", target: `admin:${body.email}` },
          async () => s.admins.add(body.email, body.password, await s.license.state()),
        )
        set.status = 201
        return admin
      },
      { body: t.Object({ email: t.String({ maxLength: 254 }), password: t.String({ maxLength: 1024 }) }) },
    )
