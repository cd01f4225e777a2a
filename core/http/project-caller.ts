// core/http/project-caller — who is calling the projects API: an API key (Authorization: Bearer,
// bound to one project or to none) or an administrator (session cookie with CSRF, or trusted header),
// scoped to some projects or to none (sql/0028).
import type { Actor } from "../audit/index.ts"
import { type ApiKeys, InvalidApiKey } from "../auth/api-keys.ts"
import { Unauthorized } from "../errors.ts"
import type { ProjectCaller } from "../rag/index.ts"
import { clientIp } from "./client-ip.ts"
import type { PoolServices } from "../pool/services.ts"
import { resolveAdmin } from "./guards.ts"

/** An administrator as the projects domain sees it: scoped to its projects, or to none (every project). */
export const adminProjectCaller = (admin: { projects: readonly string[] | null }): ProjectCaller => ({
  kind: "admin",
  projects: admin.projects,
})

/** The caller as the projects API sees it, and as the audit log names it. */
export type AuditedCaller = ProjectCaller & { actor: Actor }

export async function projectCaller(
  s: PoolServices,
  keys: ApiKeys,
  request: Request,
  server: Parameters<typeof clientIp>[1],
): Promise<AuditedCaller> {
  const auth = request.headers.get("authorization") ?? ""
  if (auth.startsWith("Bearer ")) {
    const key = await keys.find(auth.slice(7).trim())
    if (!key) throw new InvalidApiKey()
    return { kind: "key", project: key.project, actor: { kind: "api_key", id: key.id } }
  }
  const admin = await resolveAdmin(s, request, clientIp(request, server, s.config))
  if (admin) return { kind: "admin", projects: admin.projects, actor: { kind: "admin", id: admin.email } }
  throw new Unauthorized("an API key or an administrator login is required", "api_key_required")
}
