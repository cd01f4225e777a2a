// The model probe (admin guide §4.9.4, core/catalog/probe.ts):
//   POST /v1/admin/models/:file_name/probe         → starts the control prompts on an isolated worker (202)
//   GET  /v1/admin/models/:file_name/probe         → the last probe: status, flags, each answer
//   POST /v1/admin/models/:file_name/probe/accept  → an administrator accepts a flagged model (audited)
import { Elysia } from "elysia"
import type { PoolServices } from "../../pool/services.ts"
import { adminActor, audited } from "../audit-trail.ts"
import { adminGuard } from "../guards.ts"

export const modelProbeRoutes = (s: PoolServices) => {
  const probe = s.modelProbe!
  return new Elysia()
    .use(adminGuard(s))
    .post("/v1/admin/models/:file_name/probe", async ({ params, admin, request, server, set }) => {
      const r = await audited(
        s,
        { actor: adminActor(admin), request, server },
        { action: "model.probe", target: `model:${params.file_name}` },
        () => probe.start(params.file_name),
      )
      set.status = 202
      return r
    })
    .get("/v1/admin/models/:file_name/probe", ({ params }) => probe.result(params.file_name))
    .post("/v1/admin/models/:file_name/probe/accept", async ({ params, admin, request, server }) =>
      audited(
        s,
        { actor: adminActor(admin), request, server },
        { action: "model.probe_accept", target: `model:${params.file_name}` },
        () => probe.accept(params.file_name, admin.email),
        (r) => ({ details: { status: r.status, flags: r.flags } }),
      ),
    )
}
