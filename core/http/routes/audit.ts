// /v1/admin/audit (filtered list, streamed export, chain verification) and /v1/projects/:pid/audit
// (the guide's §6.1 route): read-only views of this pool's audit log, for administrators. An export
// is itself recorded (audit.export): who took a copy of the log, and of which range.
import { clusterAuditView } from "../../audit/cluster-peers.ts"
import { clusterOf } from "../audit-trail.ts"
import { Elysia, t } from "elysia"
import { type ExportFormat, parseTime as queryTime } from "../../audit/index.ts"
import type { PoolServices } from "../../pool/services.ts"
import { clientIp } from "../client-ip.ts"
import { adminGuard } from "../guards.ts"

const CONTENT_TYPE: Record<ExportFormat, string> = {
  csv: "text/csv; charset=utf-8",
  jsonl: "application/x-ndjson; charset=utf-8",
}

/** The export as a streamed body: one page of rows is pulled when the client reads, never more. */
function streamed(chunks: AsyncGenerator<string>): ReadableStream<Uint8Array> {
  const enc = new TextEncoder()
  return new ReadableStream({
    async pull(controller) {
      const { value, done } = await chunks.next()
      if (done) controller.close()
      else controller.enqueue(enc.encode(value))
    },
    async cancel() {
      await chunks.return(undefined)
    },
  })
}

const listQuery = t.Object({
  actor: t.Optional(t.String({ maxLength: 330 })),
  action: t.Optional(t.String({ maxLength: 64 })),
  project: t.Optional(t.String({ maxLength: 128 })),
  from: t.Optional(t.String()),
  to: t.Optional(t.String()),
  before: t.Optional(t.Numeric({ minimum: 1 })),
  after: t.Optional(t.Numeric({ minimum: 0 })),
  limit: t.Optional(t.Numeric({ minimum: 1, maximum: 500 })),
})

export const auditRoutes = (s: PoolServices) =>
  new Elysia()
    .use(adminGuard(s))
    .get(
      "/v1/admin/audit",
      async ({ query }) => ({
        data: await s.audit.list({
          ...query,
          from: queryTime("from", query.from),
          to: queryTime("to", query.to),
        }),
      }),
      { query: listQuery },
    )
    .get(
      // :pid, as in every /v1/projects/:pid/… route (core/http/routes/projects.ts): the router refuses two names.
      "/v1/projects/:pid/audit",
      async ({ params, query }) => ({
        data: await s.audit.list({ project: params.pid, before: query.before, limit: query.limit ?? 500 }),
      }),
      {
        params: t.Object({ pid: t.String({ minLength: 1, maxLength: 128 }) }),
        query: t.Object({
          before: t.Optional(t.Numeric({ minimum: 1 })),
          limit: t.Optional(t.Numeric({ minimum: 1, maximum: 500 })),
        }),
      },
    )
    .get("/v1/admin/audit/verify", () => s.audit.verify())
    .get(
      // Every trusted pool's rows and chain; the pools that did not answer within 3 s are named.
      "/v1/admin/audit/cluster",
      ({ query }) => clusterAuditView(clusterOf(s), query),
      {
        query: t.Object({
          actor: t.Optional(t.String({ maxLength: 330 })),
          action: t.Optional(t.String({ maxLength: 330 })),
          project: t.Optional(t.String({ maxLength: 128 })),
          limit: t.Optional(t.Numeric({ minimum: 1, maximum: 200 })),
        }),
      },
    )
    .get(
      "/v1/admin/audit/export",
      async ({ query, admin, request, server }) => {
        const format = query.format
        const from = queryTime("from", query.from)
        const to = queryTime("to", query.to)
        await s.audit.record({
          actor: { kind: "admin", id: admin.email },
          action: "audit.export",
          clientIp: clientIp(request, server, s.config),
          details: { format, from: from?.toISOString() ?? null, to: to?.toISOString() ?? null },
        })
        const name = `audit-${s.config.poolName}-${new Date(s.clock.now()).toISOString().slice(0, 10)}.${format}`
        return new Response(streamed(s.audit.export({ format, from, to })), {
          headers: {
            "content-type": CONTENT_TYPE[format],
            "content-disposition": `attachment; filename="${name.replace(/[^A-Za-z0-9._-]/g, "_")}"`,
            "cache-control": "no-store",
          },
        })
      },
      {
        query: t.Object({
          format: t.Union([t.Literal("csv"), t.Literal("jsonl")]),
          from: t.Optional(t.String()),
          to: t.Optional(t.String()),
        }),
      },
    )
