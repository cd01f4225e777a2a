// /v1/admin/keys — virtual API keys (the secret shown once), and /v1/admin/anonymous-access, the
// cluster-wide switch for calls without a key.
import { Elysia, t } from "elysia"
import type { PoolServices } from "../../pool/services.ts"
import { adminActor, audited } from "../audit-trail.ts"
import { adminGuard } from "../guards.ts"
import { Forbidden, NotFound } from "../../errors.ts"

export const keyRoutes = (s: PoolServices) => {
  const keys = s.apiKeys!
  const anonymous = s.anonymous!
  // An administrator scoped to projects (sql/0028) handles only keys bound to one of them: another
  // project's key is not found (404), and a key for every project would widen its scope (403).
  const inScope = (admin: { projects: readonly string[] | null }, project: string | null | undefined) =>
    !admin.projects || (project != null && admin.projects.includes(project))
  const mayBind = (admin: { projects: readonly string[] | null }, project: string | undefined) => {
    if (inScope(admin, project)) return
    if (project == null)
      throw new Forbidden("an administrator scoped to projects binds every key to one of them", "admin_scope_forbidden")
    throw new NotFound(`no project ${project}`, "project_not_found")
  }
  return (
    new Elysia()
      .use(adminGuard(s))
      .post(
        "/v1/admin/keys",
        async ({ body, set, admin, request, server }) => {
          const { key, record } = await audited(
            s,
            { actor: adminActor(admin), request, server },
            { action: "key.create", project: body.project ?? null, details: { name: body.name } },
            async () => {
              mayBind(admin, body.project)
              return keys.create(body)
            },
          )
          set.status = 201
          // The only time the secret is ever shown.
          return { ...record, key }
        },
        {
          body: t.Object({
            name: t.String({ minLength: 1, maxLength: 100 }),
            project: t.Optional(t.String({ maxLength: 100 })),
            models: t.Optional(t.Array(t.String({ minLength: 1 }), { minItems: 1 })),
            rpm: t.Optional(t.Integer({ minimum: 1 })),
            tpm: t.Optional(t.Integer({ minimum: 1 })),
            monthly_token_budget: t.Optional(t.Integer({ minimum: 1 })),
            priority: t.Optional(t.Union([t.Literal("interactive"), t.Literal("batch")])),
          }),
        },
      )
      .get("/v1/admin/keys", async ({ admin }) => ({
        data: (await keys.list()).filter((k) => inScope(admin, k.project)),
      }))
      .delete(
        "/v1/admin/keys/:id",
        async ({ params, set, admin, request, server }) => {
          await audited(
            s,
            { actor: adminActor(admin), request, server },
            { action: "key.revoke", target: `key:${params.id}` },
            async () => {
              const key = await keys.byId(params.id)
              if (key && !inScope(admin, key.project))
                throw new NotFound(`no active API key ${params.id}`, "api_key_not_found")
              await keys.revoke(params.id)
            },
          )
          set.status = 204
          return ""
        },
        { params: t.Object({ id: t.String({ format: "uuid" }) }) },
      )
      // The cluster-wide switch for calls without a key (off by default).
      .get("/v1/admin/anonymous-access", () => anonymous.state())
      .put(
        "/v1/admin/anonymous-access",
        ({ body, admin, request, server }) =>
          audited(
            s,
            { actor: adminActor(admin), request, server },
            { action: "setting.change", target: "setting:anonymous_access", details: { enabled: body.enabled } },
            () => anonymous.set(body.enabled),
          ),
        {
          body: t.Object({ enabled: t.Boolean() }),
        },
      )
  )
}
