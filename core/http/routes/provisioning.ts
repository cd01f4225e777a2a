// Administrators enrol and revoke workers (admin guide §2.2):
//   POST /v1/admin/workers/provision {os, hardware, label?} → single-use code + ready-to-paste snippets
//   GET  /v1/admin/workers/tokens                            → enrolled workers (no secrets)
//   POST /v1/admin/workers/tokens/:id/revoke                 → revoke; its connections close at once
//   POST /v1/admin/workers/:worker_id/revoke                 → the same, by the worker id it joined with
//   GET  /v1/admin/workers/audit                             → the worker audit log
//   PUT  /v1/admin/models/classes/:class {file_name}         → the model a hardware class serves
import { Elysia, t } from "elysia"
import { adminGuard } from "../guards.ts"
import {
  createProvisionCode,
  listWorkerTokens,
  revokeWorkerById,
  revokeWorkerToken,
  workerAudit,
} from "../../workers/provisioning.ts"
import { snippetsFor } from "../../workers/install.ts"
import { assignClassModel, classAssignments, listStore } from "../../catalog/store.ts"
import type { HardwareClass } from "../../workers/protocol.ts"
import type { PoolContext } from "../context.ts"
import { requestOrigin } from "./install.ts"

export interface WorkerConnections {
  /** Close every live connection of a worker token; returns how many were closed. */
  closeToken(tokenId: number): number
}

export const ProvisionBody = t.Object({
  os: t.Union([t.Literal("linux"), t.Literal("macos"), t.Literal("windows")]),
  hardware: t.Union([t.Literal("cpu"), t.Literal("gpu")]),
  label: t.Optional(t.String({ maxLength: 128 })),
})

export const provisioningRoutes = (conns: WorkerConnections) => (ctx: PoolContext) =>
  new Elysia()
    .use(adminGuard(ctx))
    .post(
      "/v1/admin/workers/provision",
      async ({ body, request }) => {
        const c = await createProvisionCode(ctx.db.sql, ctx.clock, {
          os: body.os,
          hardware: body.hardware,
          label: body.label,
          ttlMs: ctx.config.provisionCodeTtlMs,
        })
        return {
          code: c.code,
          os: c.os,
          hardware: c.hardware,
          expires_at: new Date(c.expiresAt).toISOString(),
          snippets: snippetsFor(requestOrigin(request, ctx.config.poolUrl), c.os, c.hardware, c.code),
        }
      },
      { body: ProvisionBody },
    )
    .get("/v1/admin/workers/tokens", async () => ({ data: await listWorkerTokens(ctx.db.sql) }))
    .post(
      "/v1/admin/workers/tokens/:id/revoke",
      async ({ params }) => {
        await revokeWorkerToken(ctx.db.sql, ctx.clock, params.id)
        return { revoked: params.id, connections_closed: conns.closeToken(params.id) }
      },
      { params: t.Object({ id: t.Integer({ minimum: 1 }) }) },
    )
    .post(
      "/v1/admin/workers/:worker_id/revoke",
      async ({ params }) => {
        const ids = await revokeWorkerById(ctx.db.sql, ctx.clock, params.worker_id)
        const closed = ids.reduce((n, id) => n + conns.closeToken(id), 0)
        return { worker_id: params.worker_id, revoked: ids, connections_closed: closed }
      },
      { params: t.Object({ worker_id: t.String({ pattern: "^[A-Za-z0-9_-]{8,64}$" }) }) },
    )
    .get("/v1/admin/workers/audit", async () => ({ data: await workerAudit(ctx.db.sql) }))
    .get("/v1/admin/models/classes", async () => ({
      assignments: await classAssignments(ctx.db.sql),
      files: (await listStore(ctx.db.sql, ctx.config.modelStoreDir)).map(({ path: _p, ...m }) => m),
    }))
    .put(
      "/v1/admin/models/classes/:class",
      async ({ params, body }) => {
        await assignClassModel(ctx.db.sql, ctx.config.modelStoreDir, params.class as HardwareClass, body.file_name)
        return { hardware_class: params.class, file_name: body.file_name }
      },
      { body: t.Object({ file_name: t.String({ minLength: 1, maxLength: 205 }) }) },
    )
