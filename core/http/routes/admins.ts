// /v1/admin/admins — the dashboard's administrators: list them, add one (licence limit max_users,
// 402 limit_reached when reached; listing is a read and never gated), and scope one to projects
// (PUT …/{id}/projects: a list, or null for every project; sql/0028). Only an administrator who is not
// scoped adds administrators or changes scopes: a scoped one could otherwise widen its own.
import { Elysia, t } from "elysia"
import type { PoolServices } from "../../pool/services.ts"
import { Forbidden } from "../../errors.ts"
import { ANY_PROJECT } from "../../rag/index.ts"
import { adminActor, audited } from "../audit-trail.ts"
import { adminGuard } from "../guards.ts"

const Scope = t.Nullable(t.Array(t.String({ minLength: 1, maxLength: 100 }), { maxItems: 1000 }))

export const adminRoutes = (s: PoolServices) => {
  const unscoped = (admin: { projects: readonly string[] | null }) => {
    if (admin.projects)
      throw new Forbidden("an administrator scoped to projects cannot manage administrators", "admin_scope_forbidden")
  }
  /** 404 project_not_found for a scope naming a project this pool does not hold. */
  const known = async (projects: readonly string[] | null | undefined) => {
    for (const id of projects ?? []) await s.rag?.projects.require(ANY_PROJECT, id)
  }
  return new Elysia()
    .use(adminGuard(s))
    .get("/v1/admin/admins", async () => ({ data: await s.admins.list() }))
    .post(
      "/v1/admin/admins",
      async ({ body, set, admin: by, request, server }) => {
        const admin = await audited(
          s,
          { actor: adminActor(by), request, server },
          { action: "admin.create", target: `admin:${body.email}`, details: { projects: body.projects ?? null } },
          async () => {
            unscoped(by)
            await known(body.projects)
            return s.admins.add(body.email, body.password, await s.license.state(), body.projects ?? null)
          },
        )
        set.status = 201
        return admin
      },
      {
        body: t.Object({
          email: t.String({ maxLength: 254 }),
          password: t.String({ maxLength: 1024 }),
          projects: t.Optional(Scope),
        }),
      },
    )
    .put(
      "/v1/admin/admins/:id/projects",
      async ({ body, params, admin: by, request, server }) =>
        audited(
          s,
          { actor: adminActor(by), request, server },
          { action: "admin.scope", target: `admin:#${params.id}`, details: { projects: body.projects } },
          async () => {
            unscoped(by)
            await known(body.projects)
            return s.admins.setProjects(params.id, body.projects)
          },
        ),
      { params: t.Object({ id: t.Integer({ minimum: 1 }) }), body: t.Object({ projects: Scope }) },
    )
}
