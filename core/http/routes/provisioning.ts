// Administrators enrol and revoke workers (admin guide §2.2):
//   POST /v1/admin/workers/provision {os, hardware, label?} → single-use code + ready-to-paste snippets
//   GET  /v1/admin/workers/tokens                            → enrolled workers (no secrets)
//   POST /v1/admin/workers/tokens/:id/revoke                 → revoke; its connections close at once
//   POST /v1/admin/workers/:worker_id/revoke                 → the same, by the worker id it joined with
//   GET  /v1/admin/workers/audit                             → the worker audit log
//   PUT  /v1/admin/models/classes/:class {file_name}         → the model a hardware class serves
import { Elysia, t } from "elysia"
import { adminGuard } from "../guards.ts"
import { snippetsFor } from "../../workers/install.ts"
import type { HardwareClass } from "../../workers/protocol.ts"
import type { PoolServices } from "../../pool/services.ts"
import { publicOrigin } from "../public-origin.ts"
import { adminActor, audited } from "../audit-trail.ts"

export const ProvisionBody = t.Object({
  os: t.Union([t.Literal("linux"), t.Literal("macos"), t.Literal("windows")]),
  hardware: t.Union([t.Literal("cpu"), t.Literal("gpu")]),
  label: t.Optional(t.String({ maxLength: 128 })),
})

export const provisioningRoutes = (s: PoolServices) =>
  new Elysia()
    .use(adminGuard(s))
    .post(
      "/v1/admin/workers/provision",
      async ({ body, request, server, admin }) => {
        const c = await audited(
          s,
          { actor: adminActor(admin), request, server },
          {
            action: "worker.provision_code",
            details: { os: body.os, hardware: body.hardware, label: body.label ?? "" },
          },
          () => s.workers.createCode({ os: body.os, hardware: body.hardware, label: body.label }),
        )
        return {
          code: c.code,
          os: c.os,
          hardware: c.hardware,
          expires_at: new Date(c.expiresAt).toISOString(),
          snippets: snippetsFor(publicOrigin(request, s.config.poolUrl), c.os, c.hardware, c.code),
        }
      },
      { body: ProvisionBody },
    )
    .get("/v1/admin/workers/tokens", async () => ({ data: await s.workers.listTokens() }))
    .post(
      "/v1/admin/workers/tokens/:id/revoke",
      async ({ params, admin, request, server }) => {
        await audited(
          s,
          { actor: adminActor(admin), request, server },
          { action: "worker.revoke", target: `worker:${params.id}` },
          () => s.workers.revokeToken(params.id),
        )
        return { revoked: params.id, connections_closed: s.hub?.closeToken(params.id) ?? 0 }
      },
      { params: t.Object({ id: t.Integer({ minimum: 1 }) }) },
    )
    .post(
      "/v1/admin/workers/:worker_id/revoke",
      async ({ params }) => {
        const ids = await s.workers.revokeWorkerById(params.worker_id)
        const closed = ids.reduce((n, id) => n + (s.hub?.closeToken(id) ?? 0), 0)
        return { worker_id: params.worker_id, revoked: ids, connections_closed: closed }
      },
      { params: t.Object({ worker_id: t.String({ pattern: "^[A-Za-z0-9_-]{8,64}$" }) }) },
    )
    .get("/v1/admin/workers/audit", async () => ({ data: await s.workers.audit() }))
    .get("/v1/admin/models/classes", async () => ({
      assignments: await s.catalog.classAssignments(),
      files: (await s.catalog.listStore()).map(({ path: _p, ...m }) => m),
    }))
    .put(
      "/v1/admin/models/classes/:class",
      async ({ params, body, admin, request, server }) => {
        await s.modelProbe?.assertAssignable(body.file_name)
        await audited(
          s,
          { actor: adminActor(admin), request, server },
          {
            action: "model.assign_class",
            target: `model:${body.file_name}`,
            details: { hardware_class: params.class },
          },
          () => s.catalog.assignClassModel(params.class as HardwareClass, body.file_name),
        )
        return { hardware_class: params.class, file_name: body.file_name }
      },
      { body: t.Object({ file_name: t.String({ minLength: 1, maxLength: 205 }) }) },
    )
