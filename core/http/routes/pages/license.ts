// GET /license — the Licence page, and its forms: POST /admin/license/upload | enforce | remove.
// The JSON API for the same actions is core/http/routes/license.ts.
import { Elysia } from "elysia"
import type { PoolServices } from "../../../pool/services.ts"
import type { AuditedAction } from "../../audit-trail.ts"
import type { LicenseView } from "../../../license/store.ts"
import type { AdminIdentity } from "../../guards.ts"
import { langOf } from "../../session.ts"
import { dashboardPage, formAction, type Flash, type PageRequest, type Srv } from "../../dashboard-shell.ts"
import { t } from "../../../../views/i18n.ts"
import { licenseBody } from "../../../../views/pages/license.ts"

export const licensePage = (s: PoolServices) => {
  const store = s.license
  const page = (request: Request, server: Srv, flash?: Flash, status = 200, who?: PageRequest) =>
    dashboardPage(s, request, server, {
      who,
      active: "license",
      title: (l) => t(l, "license.title"),
      status,
      scripts: ["/assets/license.js"],
      body: async ({ lang, admin }) => licenseBody(lang, await store.view().catch(() => null), admin.csrf, flash),
    })

  /** Runs a licence form action; its text is the green flash. */
  const action = (
    request: Request,
    server: Srv,
    body: unknown,
    what: AuditedAction | ((form: Record<string, unknown>) => AuditedAction),
    run: (admin: AdminIdentity, form: Record<string, unknown>) => Promise<string>,
  ) =>
    formAction(s, request, server, body, {
      // Recorded like the JSON API's twin (routes/license.ts), with the outcome.
      audit: (form) => (typeof what === "function" ? what(form) : what),
      run: (form, who) => run(who.admin, form),
      page: (who, o, status) => page(request, server, o.flash ?? { ok: true, text: o.result }, status, who),
    })

  return new Elysia()
    .get("/license", ({ request, server }) => page(request, server))
    .post("/admin/license/upload", ({ request, server, body }) =>
      action(request, server, body, { action: "license.install" }, async (admin, form) => {
        const v: LicenseView = await store.install(String(form.token ?? ""), admin.email)
        return `${t(langOf(request), "license.installed")} ${v.tier ?? ""} · ${v.client_id ?? ""}`
      }),
    )
    .post("/admin/license/enforce", ({ request, server, body }) =>
      action(
        request,
        server,
        body,
        (form) => ({
          action: "setting.change",
          target: "setting:license_enforce",
          details: { enabled: String(form.enabled) === "true" },
        }),
        async (admin, form) => {
          const enabled = String(form.enabled) === "true"
          const v = await store.setEnforce(enabled, admin.email)
          return t(langOf(request), v.enforce ? "license.enforce_on" : "license.enforce_off")
        },
      ),
    )
    .post("/admin/license/remove", ({ request, server, body }) =>
      action(request, server, body, { action: "license.remove" }, async (admin) => {
        await store.remove(admin.email)
        return t(langOf(request), "license.status.none")
      }),
    )
}
