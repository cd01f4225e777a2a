// GET /models — the Models page (views/pages/models.ts): upload (the browser streams the file to POST
// /v1/admin/models itself, for its progress bar), the catalogue, deletion and assignment per hardware
// class and tier. Forms: POST /models/:file_name/delete, POST /models/assign. Admin session only, CSRF
// on every form; audited as the JSON API audits it.
import { Elysia } from "elysia"
import type { PoolServices } from "../../../pool/services.ts"
import { dashboardPage, formAction, type PageRequest, type Srv } from "../../dashboard-shell.ts"
import { t } from "../../../../views/i18n.ts"
import { type Flash, modelsBody } from "../../../../views/pages/models.ts"
import { HARDWARE_CLASSES } from "../../../catalog/store.ts"
import { TIERS } from "../../../catalog/catalogue.ts"
import { BadRequest } from "../../../errors.ts"
import type { HardwareClass } from "../../../workers/protocol.ts"

export const modelsPage = (s: PoolServices) => {
  const page = (request: Request, server: Srv, o: { who?: PageRequest; status?: number; flash?: Flash } = {}) =>
    dashboardPage(s, request, server, {
      active: "models",
      title: (l) => t(l, "models.title"),
      who: o.who,
      status: o.status,
      scripts: ["/assets/models.js"],
      body: async ({ lang, admin }) => {
        const r = await s.catalog.role.view()
        return modelsBody(lang, {
          role: { role: r.role, masterUrl: r.master?.url ?? null, epoch: r.master?.epoch ?? 0 },
          entries: await s.catalog.list(),
          classes: await s.catalog.classAssignments(),
          tiers: await s.catalog.tierAssignments(),
          hardwareClasses: HARDWARE_CLASSES,
          tierNames: TIERS,
          csrf: admin.csrf,
          flash: o.flash,
        })
      },
    })
  return new Elysia()
    .get("/models", ({ request, server }) => page(request, server as Srv))
    .post("/models/assign", ({ request, server, body }) =>
      formAction(s, request, server as Srv, body, {
        audit: (f) =>
          f.kind === "tier"
            ? { action: "model.assign_tier", target: `model:${f.file_name}`, details: { tier: String(f.target) } }
            : {
                action: "model.assign_class",
                target: `model:${f.file_name}`,
                details: { hardware_class: String(f.target) },
              },
        run: async (f) => {
          const file = String(f.file_name ?? "")
          const target = String(f.target ?? "")
          if (!file) throw new BadRequest("choose a model to assign", "model_file_name_invalid")
          if (f.kind === "tier") await s.catalog.assignTier(target, file)
          else await s.catalog.assignClassModel(target as HardwareClass, file)
          return { target, file }
        },
        page: (who, o, status) =>
          page(request, server as Srv, {
            who,
            status,
            flash: o.flash ?? {
              ok: true,
              text: t(who.lang, "models.assigned_ok", { target: o.result.target, name: o.result.file }),
            },
          }),
      }),
    )
    .post("/models/promote-master", ({ request, server, body }) =>
      formAction(s, request, server as Srv, body, {
        audit: () => ({ action: "model.promote_master", target: "catalogue:master" }),
        run: (_f, who) => s.catalog.role.promote(who.admin.email),
        page: (who, o, status) =>
          page(request, server as Srv, {
            who,
            status,
            flash: o.flash ?? { ok: true, text: t(who.lang, "models.promoted") },
          }),
      }),
    )
    .post("/models/:file_name/delete", ({ request, server, body, params }) =>
      formAction(s, request, server as Srv, body, {
        audit: () => ({ action: "model.delete", target: `model:${params.file_name}` }),
        run: () => s.catalog.remove(params.file_name),
        page: (who, o, status) =>
          page(request, server as Srv, {
            who,
            status,
            flash: o.flash ?? { ok: true, text: t(who.lang, "models.deleted") },
          }),
      }),
    )
}
