// /v1/admin/license — install, read, remove the cluster licence and toggle enforcement (guide §7.3).
// Administrators only. The token goes in; it never comes back out of any response.
import { Elysia, t } from "elysia"
import { logger } from "../../log.ts"
import type { PoolServices } from "../../pool/services.ts"
import { adminActor, audited } from "../audit-trail.ts"
import { adminGuard } from "../guards.ts"

export const licenseRoutes = (s: PoolServices) => {
  const store = s.license
  logger("license").info("license.routes: 4 endpoints installed")
  return new Elysia()
    .use(adminGuard(s))
    .get("/v1/admin/license", () => store.view())
    .post(
      "/v1/admin/license/upload",
      async ({ body, admin, request, server }) =>
        audited(s, { actor: adminActor(admin), request, server }, { action: "license.install" }, async () => {
          const v = await store.install(body.token, admin.email)
          return { ok: true, ...v }
        }),
      {
        body: t.Object({ token: t.String() }),
      },
    )
    .delete("/v1/admin/license", ({ admin, request, server }) =>
      audited(s, { actor: adminActor(admin), request, server }, { action: "license.remove" }, async () => ({
        ok: true,
        ...(await store.remove(admin.email)),
      })),
    )
    .post(
      "/v1/admin/license/enforce",
      async ({ body, admin, request, server }) =>
        audited(
          s,
          { actor: adminActor(admin), request, server },
          { action: "setting.change", target: "setting:license_enforce", details: { enabled: body.enabled } },
          async () => ({ ok: true, ...(await store.setEnforce(body.enabled, admin.email)) }),
        ),
      {
        body: t.Object({ enabled: t.Boolean() }),
      },
    )
}
