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
import { BadRequest, NotFound } from "../../../errors.ts"
import type { HardwareClass } from "../../../workers/protocol.ts"

const requireProbe = (s: PoolServices) => {
  if (!s.modelProbe) throw new NotFound("this pool has no model probe", "probe_unavailable")
  return s.modelProbe
}

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
        const entries = await s.catalog.list()
        const probe = s.modelProbe
        // Each stored file's last probe (a satellite's file still copying cannot be probed yet).
        const probes = probe
          ? Object.fromEntries(
              await Promise.all(
                entries
                  .filter((e) => e.present !== false)
                  .map(async (e) => [e.file_name, await probe.result(e.file_name).catch(() => null)] as const),
              ),
            )
          : undefined
        return modelsBody(lang, {
          probes,
          role: { role: r.role, masterUrl: r.master?.url ?? null, epoch: r.master?.epoch ?? 0 },
          entries,
          classes: await s.catalog.classAssignments(),
          tiers: await s.catalog.tierAssignments(),
          hardwareClasses: HARDWARE_CLASSES,
          tierNames: TIERS,
          csrf: admin.csrf,
          flash: o.flash,
        })
      },
    })
  return (
    new Elysia()
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
      // The probe's forms (views/pages/model-probe.ts): start it, accept a flagged model; audited like the API.
      .post("/models/:file_name/probe", ({ request, server, body, params }) =>
        formAction(s, request, server as Srv, body, {
          audit: () => ({ action: "model.probe", target: `model:${params.file_name}` }),
          run: () => requireProbe(s).start(params.file_name),
          page: (who, o, status) =>
            page(request, server as Srv, {
              who,
              status,
              flash: o.flash ?? { ok: true, text: t(who.lang, "models.probe_started", { file: params.file_name }) },
            }),
        }),
      )
      .post("/models/:file_name/probe/accept", ({ request, server, body, params }) =>
        formAction(s, request, server as Srv, body, {
          audit: () => ({ action: "model.probe_accept", target: `model:${params.file_name}` }),
          run: (_f, who) => requireProbe(s).accept(params.file_name, who.admin.email),
          page: (who, o, status) =>
            page(request, server as Srv, {
              who,
              status,
              flash: o.flash ?? { ok: true, text: t(who.lang, "models.probe_accepted", { file: params.file_name }) },
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
  )
}
