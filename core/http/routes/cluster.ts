// The replicated admin resources: GET/PUT /v1/admin/settings[/:key] (Advanced settings, core/settings),
// GET/PUT /v1/admin/branding (company name and logo, core/setup/branding.ts),
// GET/PUT /v1/admin/sites[/:site_id], GET/POST /v1/admin/projects. Writes become signed envelopes
// (core/federation publishes them); reads come from the replicated tables.
import { randomBytes } from "node:crypto"
import { Elysia } from "elysia"
import { CelluleError, NotFound } from "../../errors.ts"
import type { PoolServices } from "../../pool/services.ts"
import { scopedCannotCreate } from "../../rag/index.ts"
import { adminActor, audited } from "../audit-trail.ts"
import { settingType } from "../../federation/index.ts"
import { adminGuard } from "../guards.ts"

export const clusterRoutes = (s: PoolServices) => {
  const fed = s.federation!
  const settings = s.settings!
  return (
    new Elysia()
      .use(adminGuard(s))
      // Every setting (Advanced settings, §0.5): value, source, description, restart flag, recommendations.
      .get("/v1/admin/settings", async () => {
        const [list, role] = await Promise.all([settings.list(), settings.role()])
        // role: master (changes are taken here) or satellite (409 settings_read_only, master_url).
        return { settings: list, role }
      })
      .get("/v1/admin/settings/:key", async ({ params }) => {
        if (!settingType(params.key))
          throw new CelluleError("setting_not_cluster_wide", `"${params.key}" is not a cluster-wide setting`, 404)
        const row = await s.peers.setting(params.key)
        if (!row) throw new NotFound(`setting "${params.key}" has never been set`, "setting_not_set")
        return row
      })
      .put("/v1/admin/settings/:key", async ({ params, body, admin, request, server }) => {
        const value = (body as { value?: unknown })?.value
        return await audited(
          s,
          { actor: adminActor(admin), request, server },
          { action: "setting.change", target: `setting:${params.key}`, details: { value } },
          // Typed check (400 setting_invalid), environment lock and satellite (409): core/settings/admin.ts.
          () => settings.change(params.key, value),
        )
      })
      // Company name and logo, cluster-wide (kind "branding"): changed where settings are (409 on a satellite).
      .get("/v1/admin/branding", async () => {
        const [p, role] = await Promise.all([s.setup.readProfile(), s.setup.brandingRole()])
        if (!p) throw new NotFound("setup is not completed yet", "setup_not_completed")
        return { company: p.company, has_logo: p.hasLogo, logo_url: p.hasLogo ? "/setup/logo" : null, role }
      })
      .put("/v1/admin/branding", async ({ body, admin, request, server }) => {
        const b = (body ?? {}) as { company?: unknown; logo?: unknown; remove_logo?: unknown }
        return await audited(
          s,
          { actor: adminActor(admin), request, server },
          { action: "setting.change", target: "branding", details: { company: String(b.company ?? "") } },
          // The wizard's checks (400 company_invalid, logo_*), satellite (409 settings_read_only): core/setup/branding.ts.
          () => s.setup.updateBranding({ company: b.company, logo: b.logo, removeLogo: b.remove_logo === true }),
        )
      })
      .get("/v1/admin/sites", async () => ({ sites: await s.peers.sites() }))
      .put("/v1/admin/sites/:site_id", async ({ params, body, admin, request, server }) => {
        const b = (body ?? {}) as { name?: unknown; headcount?: unknown; pool?: unknown }
        const env = await audited(
          s,
          { actor: adminActor(admin), request, server },
          {
            action: "setting.change",
            target: `site:${params.site_id}`,
            details: { name: b.name, headcount: b.headcount, pool: b.pool },
          },
          () => fed.publish("site", { site_id: params.site_id, name: b.name, headcount: b.headcount, pool: b.pool }),
        )
        return { ...(env.payload as object), hlc: env.hlc, origin: env.origin }
      })
      // An administrator scoped to projects (sql/0028) sees only those, and creates none.
      .get("/v1/admin/projects", async ({ admin }) => ({
        projects: (await s.peers.projects()).filter((p) => !admin.projects || admin.projects.includes(p.id)),
      }))
      .post("/v1/admin/projects", async ({ body, set, admin, request, server }) => {
        if (admin.projects) throw scopedCannotCreate()
        const b = (body ?? {}) as { name?: unknown; description?: unknown }
        const id = `prj_${s.clock.now().toString(36)}${randomBytes(5).toString("hex")}`
        const env = await audited(
          s,
          { actor: adminActor(admin), request, server },
          { action: "project.create", project: id, target: `project:${id}`, details: { name: b.name } },
          () => fed.publish("project", { id, name: b.name, description: b.description ?? "" }),
        )
        set.status = 201
        return { ...(env.payload as object), origin: env.origin }
      })
  )
}
