// core/http/guards — who is calling. adminGuard resolves the administrator from the session
// cookie (with CSRF on mutations) or, from trusted networks only, the X-Cellule-User header.
import { clientIp } from "./client-ip.ts"
import { hashToken, tokenMatches } from "../crypto/token.ts"
import { Elysia } from "elysia"
import { Unauthorized, Forbidden } from "../errors.ts"
import type { Admin } from "../auth/admins.ts"
import type { PoolServices } from "../pool/services.ts"
import { requireClusterScope } from "./admin-scope.ts"

export const SESSION_COOKIE = "cellule_session"
export const CSRF_HEADER = "x-csrf-token"

export interface AdminIdentity extends Admin {
  via: "session" | "header"
  /** The session's CSRF token (views put it in forms and in hx-headers). */
  csrf?: string
}

export function cookieValue(request: Request, name: string): string | undefined {
  const header = request.headers.get("cookie") ?? ""
  for (const part of header.split(";")) {
    const i = part.indexOf("=")
    if (i > 0 && part.slice(0, i).trim() === name) return decodeURIComponent(part.slice(i + 1).trim())
  }
  return undefined
}

const READS = new Set(["GET", "HEAD", "OPTIONS"])

/**
 * The admin behind this request, or null. Throws 403 csrf_invalid on a cookie mutation without the
 * token, and 403 admin_scope_forbidden when an admin scoped to projects reaches a cluster path.
 */
export async function resolveAdmin(
  s: PoolServices,
  request: Request,
  ip: string | undefined,
  form?: Record<string, unknown>,
): Promise<AdminIdentity | null> {
  const admin = await identify(s, request, ip, form)
  if (admin) requireClusterScope(admin, new URL(request.url).pathname)
  return admin
}

async function identify(
  s: PoolServices,
  request: Request,
  ip: string | undefined,
  form?: Record<string, unknown>,
): Promise<AdminIdentity | null> {
  const token = cookieValue(request, SESSION_COOKIE)
  if (token) {
    const session = await s.admins.sessionFor(token)
    if (session) {
      if (!READS.has(request.method)) {
        const presented = request.headers.get(CSRF_HEADER) ?? (typeof form?._csrf === "string" ? form._csrf : undefined)
        if (!presented || !tokenMatches(presented, hashToken(session.csrf)))
          throw new Forbidden("missing or invalid CSRF token", "csrf_invalid")
      }
      return { ...session.admin, via: "session", csrf: session.csrf }
    }
  }
  const user = request.headers.get("x-cellule-user")
  if (user && s.config.trustedNetworks.has(ip)) {
    const admin = await s.admins.byEmail(user)
    if (admin) return { ...admin, via: "header" }
  }
  return null
}

/**
 * Mount on an Elysia instance whose routes need an administrator:
 *   new Elysia().use(adminGuard(s)).post("/v1/admin/x", ({ admin }) => …)
 * Unauthenticated → 401 admin_auth_required.
 */
export const adminGuard = (s: PoolServices) =>
  new Elysia({ name: "cellule.adminGuard" }).resolve({ as: "scoped" }, async ({ request, server, body }) => {
    const admin = await resolveAdmin(
      s,
      request,
      clientIp(request, server, s.config),
      body as Record<string, unknown> | undefined,
    )
    if (!admin) throw new Unauthorized("administrator login required", "admin_auth_required")
    return { admin }
  })
