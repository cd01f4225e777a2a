// GET /workers — the Workers page, and its forms: POST /workers/provision (a code and its snippets,
// shown once), POST /workers/tokens/:id/revoke. Same core calls as the JSON API in routes/provisioning.ts.
import { adminActor, audited } from "../../audit-trail.ts"
import { Elysia } from "elysia"
import { CelluleError } from "../../../errors.ts"
import type { PoolServices } from "../../../pool/services.ts"
import type { WorkerHardware, WorkerOs } from "../../../workers/provisioning.ts"
import { snippetsFor } from "../../../workers/install.ts"
import { publicOrigin } from "../../public-origin.ts"
import { dashboardPage, loginRedirect, pageRequest, type Srv } from "../../dashboard-shell.ts"
import { t } from "../../../../views/i18n.ts"
import { workersBody, type WorkersPageData } from "../../../../views/workers.ts"

const OS: WorkerOs[] = ["linux", "macos", "windows"]
const HW: WorkerHardware[] = ["cpu", "gpu"]

export const workersPage = (s: PoolServices) => {
  async function data(extra: Partial<WorkersPageData> = {}): Promise<WorkersPageData> {
    const events = (await s.workers.audit(30)) as unknown as WorkersPageData["events"]
    // Manual move (§4.6.1, issue 17): the trusted peers a live worker can be ordered to.
    const targets = s.migrations
      ? (await s.peers.list().catch(() => []))
          .filter((p) => !p.revoked_at && p.trust_level >= s.config.minTrustLevel)
          .map((p) => ({ atom_id: p.atom_id, name: p.pool_name ?? p.atom_id.slice(0, 12) }))
      : undefined
    const self = s.federation?.identity.atomId
    const pins = s.pins && self ? { self, home: Object.fromEntries(await s.pins.pinned()) } : undefined
    return {
      tokens: await s.workers.listTokens(),
      live: s.scheduler.snapshot().workers,
      events,
      targets,
      pins,
      ...extra,
    }
  }
  // A form POST was already checked (session + CSRF) by its handler; the page itself renders as a read.
  const page = (request: Request, server: Srv, extra: Partial<WorkersPageData> = {}, status = 200) =>
    dashboardPage(
      s,
      request.method === "GET" ? request : new Request(request.url, { headers: request.headers }),
      server,
      {
        active: "workers",
        title: (l) => t(l, "workers.title"),
        status,
        body: async ({ lang, admin }) => workersBody(lang, await data(extra), admin.csrf),
      },
    )

  return (
    new Elysia()
      .get("/workers", ({ request, server }) => page(request, server))
      .post("/workers/provision", async ({ request, server, body }) => {
        const form = (body ?? {}) as Record<string, unknown>
        const who = await pageRequest(s, request, server, form)
        if (!who) return loginRedirect(request)
        const os = String(form.os) as WorkerOs
        const hardware = String(form.hardware) as WorkerHardware
        if (!OS.includes(os) || !HW.includes(hardware))
          return page(request, server, { flash: { ok: false, text: "validation_failed: os/hardware" } }, 400)
        const label = typeof form.label === "string" ? form.label.slice(0, 128) : ""
        // recorded like the JSON API's twin (routes/provisioning.ts)
        const c = await audited(
          s,
          { actor: adminActor(who.admin), request, server },
          { action: "worker.provision_code", details: { os, hardware, label } },
          () => s.workers.createCode({ os, hardware, label }),
        )
        const issued = {
          code: c.code,
          expires_at: new Date(c.expiresAt).toISOString(),
          snippets: snippetsFor(publicOrigin(request, s.config.poolUrl), os, hardware, c.code),
        }
        return page(request, server, { issued })
      })
      .post("/workers/move", async ({ request, server, body }) => {
        const form = (body ?? {}) as Record<string, unknown>
        const who = await pageRequest(s, request, server, form)
        if (!who) return loginRedirect(request)
        const workerId = String(form.worker_id ?? "")
        const target = String(form.target_pool ?? "")
        try {
          if (!s.migrations) throw new CelluleError("migration_orders_off", "this pool runs no migration orders", 404)
          if (!workerId || !target) throw new CelluleError("validation_failed", "choose a worker and a pool", 400)
          const actor = adminActor(who.admin)
          // The domain audits the order (migration.issue) with the admin as actor, like the JSON API.
          await s.migrations.issue({
            worker_id: workerId,
            target_pool: target,
            reason: "manual",
            issued_by: actor.id,
            actor,
          })
        } catch (e) {
          if (!(e instanceof CelluleError) || e.status >= 500) throw e
          return page(request, server, { flash: { ok: false, text: `${e.code}: ${e.message}` } }, e.status)
        }
        const name = s.scheduler.workers.get(workerId)?.name ?? workerId
        return page(request, server, { flash: { ok: true, text: t(who.lang, "workers.moved_flash", { name }) } })
      })
      // The home_pool pin (§4.2, issue 17), like PUT /v1/admin/workers/{id}/home-pool: pin here, or unpin.
      .post("/workers/pin", async ({ request, server, body }) => {
        const form = (body ?? {}) as Record<string, unknown>
        const who = await pageRequest(s, request, server, form)
        if (!who) return loginRedirect(request)
        const workerId = String(form.worker_id ?? "")
        const pin = String(form.pinned) === "true"
        const home = pin ? (s.federation?.identity.atomId ?? null) : null
        try {
          if (!s.pins || !s.federation) throw new CelluleError("pins_off", "this pool keeps no worker pins", 404)
          if (!workerId) throw new CelluleError("validation_failed", "choose a worker", 400)
          await audited(
            s,
            { actor: adminActor(who.admin), request, server },
            { action: "worker.pin", target: `worker:${workerId}`, details: { home_pool: home } },
            () => s.pins!.set(workerId, home),
          )
        } catch (e) {
          if (!(e instanceof CelluleError) || e.status >= 500) throw e
          return page(request, server, { flash: { ok: false, text: `${e.code}: ${e.message}` } }, e.status)
        }
        const name = s.scheduler.workers.get(workerId)?.name ?? workerId
        return page(request, server, {
          flash: { ok: true, text: t(who.lang, pin ? "workers.pinned_flash" : "workers.unpinned_flash", { name }) },
        })
      })
      .post("/workers/tokens/:id/revoke", async ({ request, server, body, params }) => {
        const form = (body ?? {}) as Record<string, unknown>
        const who = await pageRequest(s, request, server, form)
        if (!who) return loginRedirect(request)
        const id = Number(params.id)
        try {
          await audited(
            s,
            { actor: adminActor(who.admin), request, server },
            { action: "worker.revoke", target: `worker:${params.id}` },
            () => s.workers.revokeToken(id),
          )
        } catch (e) {
          if (!(e instanceof CelluleError) || e.status >= 500) throw e
          return page(request, server, { flash: { ok: false, text: `${e.code}: ${e.message}` } }, e.status)
        }
        const n = s.hub?.closeToken(id) ?? 0
        const name = (await s.workers.listTokens()).find((w) => w.id === id)?.name ?? String(id)
        return page(request, server, { flash: { ok: true, text: t(who.lang, "workers.revoked", { name, n }) } })
      })
  )
}
