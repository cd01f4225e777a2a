// core/http/session — the dashboard session cookie and the request's language, shared by sign-in,
// the wizard (which signs its new admin in) and every page. Session rows live in core/auth/admins.ts.
import type { Server } from "bun"
import type { PoolServices } from "../pool/services.ts"
import { forwardedOrigin } from "./client-ip.ts"
import { cookieValue, SESSION_COOKIE } from "./guards.ts"
import { LANG_COOKIE, pickLang, type Lang } from "../../views/i18n.ts"

export type Srv = Pick<Server<unknown>, "requestIP"> | null | undefined

export const langOf = (request: Request): Lang =>
  pickLang(cookieValue(request, LANG_COOKIE), request.headers.get("accept-language"))

/** The proxies whose X-Forwarded-* we believe (CELLULE_TRUSTED_PROXIES, parsed at boot). */
export function trustOf(s: PoolServices) {
  return s.config
}

export function isSecureRequest(s: PoolServices, request: Request, server: Srv): boolean {
  return forwardedOrigin(request, server, trustOf(s)).proto === "https"
}

export function sessionCookie(s: PoolServices, request: Request, server: Srv, token: string, maxAgeS: number): string {
  const secure = isSecureRequest(s, request, server) ? "; Secure" : ""
  return `${SESSION_COOKIE}=${encodeURIComponent(token)}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeS}${secure}`
}

/** Signs `adminId` in: a new session and its cookie. */
export async function startSession(s: PoolServices, request: Request, server: Srv, adminId: number): Promise<string> {
  const session = await s.admins.createSession(adminId)
  return sessionCookie(s, request, server, session.token, Math.floor((session.expiresAt - s.clock.now()) / 1000))
}

/** Only same-site paths: "/x" but never "//evil" or "/\\evil". */
export const safeNext = (next: unknown) => (typeof next === "string" && /^\/(?![/\\])/.test(next) ? next : "/")
