// The dashboard's Workers page: GET /workers, POST /workers/provision (form → code + snippets shown
// once), POST /workers/tokens/:id/revoke. Same core calls as the JSON API in provisioning.ts.
import { Elysia } from "elysia"
import { CelluleError } from "../../errors.ts"
import type { Scheduler } from "../../scheduler/scheduler.ts"
import {
  createProvisionCode,
  listWorkerTokens,
  revokeWorkerToken,
  workerAudit,
  type WorkerHardware,
  type WorkerOs,
} from "../../workers/provisioning.ts"
import { snippetsFor } from "../../workers/install.ts"
import { t } from "../../../views/i18n.ts"
import { workersBody, type WorkersPageData } from "../../../views/workers.ts"
import type { PoolContext } from "../context.ts"
import { dashboardPage, loginRedirect, pageRequest } from "./dashboard.ts"
import { requestOrigin } from "./install.ts"
import type { WorkerConnections } from "./provisioning.ts"

const OS: WorkerOs[] = ["linux", "macos", "windows"]
const HW: WorkerHardware[] = ["cpu", "gpu"]

export const workersPageRoutes = (scheduler: Scheduler, conns: WorkerConnections) => (ctx: PoolContext) => {
  async function data(extra: Partial<WorkersPageData> = {}): Promise<WorkersPageData> {
    const events = (await workerAudit(ctx.db.sql, 30)) as unknown as WorkersPageData["events"]
    return { tokens: await listWorkerTokens(ctx.db.sql), live: scheduler.snapshot().workers, events, ...extra }
  }
  // A form POST was already checked (session + CSRF) by its handler; the page itself renders as a read.
  const page = (
    request: Request,
    server: Parameters<typeof dashboardPage>[2],
    extra: Partial<WorkersPageData> = {},
    status = 200,
  ) =>
    dashboardPage(
      ctx,
      request.method === "GET" ? request : new Request(request.url, { headers: request.headers }),
      server,
      {
        active: "workers",
        title: (l) => t(l, "workers.title"),
        status,
        body: async ({ lang, admin }) => workersBody(lang, await data(extra), admin.csrf),
      },
    )

  return new Elysia()
    .get("/workers", ({ request, server }) => page(request, server))
    .post("/workers/provision", async ({ request, server, body }) => {
      const form = (body ?? {}) as Record<string, unknown>
      if (!(await pageRequest(ctx, request, server, form))) return loginRedirect(request)
      const os = String(form.os) as WorkerOs
      const hardware = String(form.hardware) as WorkerHardware
      if (!OS.includes(os) || !HW.includes(hardware))
        return page(request, server, { flash: { ok: false, text: "validation_failed: os/hardware" } }, 400)
      const label = typeof form.label === "string" ? form.label.slice(0, 128) : ""
      const c = await createProvisionCode(ctx.db.sql, ctx.clock, {
        os,
        hardware,
        label,
        ttlMs: ctx.config.provisionCodeTtlMs,
      })
      const issued = {
        code: c.code,
        expires_at: new Date(c.expiresAt).toISOString(),
        snippets: snippetsFor(requestOrigin(request, ctx.config.poolUrl), os, hardware, c.code),
      }
      return page(request, server, { issued })
    })
    .post("/workers/tokens/:id/revoke", async ({ request, server, body, params }) => {
      const form = (body ?? {}) as Record<string, unknown>
      const who = await pageRequest(ctx, request, server, form)
      if (!who) return loginRedirect(request)
      const id = Number(params.id)
      try {
        await revokeWorkerToken(ctx.db.sql, ctx.clock, id)
      } catch (e) {
        if (!(e instanceof CelluleError) || e.status >= 500) throw e
        return page(request, server, { flash: { ok: false, text: `${e.code}: ${e.message}` } }, e.status)
      }
      const n = conns.closeToken(id)
      const name = (await listWorkerTokens(ctx.db.sql)).find((w) => w.id === id)?.name ?? String(id)
      return page(request, server, { flash: { ok: true, text: t(who.lang, "workers.revoked", { name, n }) } })
    })
}
