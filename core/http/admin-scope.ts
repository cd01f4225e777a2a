// core/http/admin-scope.ts — what an administrator scoped to projects (sql/0028) may reach. Such an
// admin runs its projects (documents, memories, search, their API keys), not the cluster: settings,
// federation, workers, models, licence, audit and the VIP would let it act beyond its projects or read
// other projects' trail. Deny by default: resolveAdmin refuses every path not listed here, so a route
// added later is closed to scoped admins until someone decides otherwise.
import { Forbidden } from "../errors.ts"

/** Path prefixes a scoped admin may use (each route still filters to its projects itself). */
const PROJECT_FACING: readonly string[] = [
  "/v1/projects",
  "/v1/admin/projects",
  "/v1/admin/keys",
  "/projects",
  "/documentation",
  "/lang/",
  "/logout",
  "/login",
]

/** Exact paths: the overview redirects a scoped admin to its projects. */
const EXACT = new Set(["/"])

export function projectFacing(pathname: string): boolean {
  if (EXACT.has(pathname)) return true
  // "/projects" opens "/projects/…" and "/documentation.pdf", never "/projectsX".
  return PROJECT_FACING.some(
    (p) => pathname === p || pathname.startsWith(p.endsWith("/") ? p : `${p}/`) || pathname.startsWith(`${p}.`),
  )
}

export const SCOPE_FORBIDDEN = "admin_scope_forbidden"

/** Throws 403 admin_scope_forbidden when a scoped admin reaches a cluster path. */
export function requireClusterScope(admin: { projects: readonly string[] | null }, pathname: string) {
  if (admin.projects && !projectFacing(pathname))
    throw new Forbidden("an administrator scoped to projects manages only its projects", SCOPE_FORBIDDEN)
}
