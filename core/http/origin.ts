// core/http/origin — refuses state-changing browser requests that come from another site, before any
// route runs. The CSRF token stays (defence in depth); this catches what a token check can miss.
import { Forbidden } from "../errors.ts"

const SAFE = new Set(["GET", "HEAD", "OPTIONS"])
/** Paths a browser posts to without a session cookie: the wizard and sign-in. */
const BROWSER_PATHS = /^\/(setup|login|logout|auth|lang)(\/|$)/

/**
 * Whether a request is one a hostile page could forge with the user's cookies: a mutation carrying a
 * Cellule cookie, or aimed at the wizard or the sign-in pages. An API call with a bearer key and no
 * cookie is not (a browser would attach no credential the attacker does not already hold).
 */
function forgeable(request: Request, path: string): boolean {
  if (SAFE.has(request.method)) return false
  if (BROWSER_PATHS.test(path)) return true
  return /(^|;\s*)cellule_/.test(request.headers.get("cookie") ?? "")
}

/**
 * Throws 403 origin_forbidden when a forgeable request says it comes from another site:
 * `Sec-Fetch-Site: cross-site`, `Origin: null` (sandboxed frames, some redirects), or an Origin whose
 * host is none of ours. Ours: the Host header, X-Forwarded-Host (set by `cellule proxy` or nginx; a
 * page cannot add it to a simple request without a preflight we never grant), and POOL_URL's host.
 * No Origin at all (curl, scripts, old browsers on same-origin forms) is left to the CSRF token.
 */
export function refuseForeignOrigin(request: Request, path: string, poolUrl?: string): void {
  if (!forgeable(request, path)) return
  if (request.headers.get("sec-fetch-site") === "cross-site")
    throw new Forbidden("cross-site request refused (Sec-Fetch-Site: cross-site)", "origin_forbidden")
  const origin = request.headers.get("origin")
  if (origin === null) return
  let host: string
  try {
    if (origin === "null") throw new Error("opaque origin")
    host = new URL(origin).host.toLowerCase()
  } catch {
    throw new Forbidden(`request from an opaque or invalid Origin (${origin.slice(0, 80)}) refused`, "origin_forbidden")
  }
  if (ours(request, poolUrl).has(host)) return
  throw new Forbidden(`request from a foreign Origin (${host.slice(0, 80)}) refused`, "origin_forbidden")
}

function ours(request: Request, poolUrl?: string): Set<string> {
  const hosts = new Set<string>()
  const add = (h: string | null | undefined) => {
    if (h) hosts.add(h.trim().toLowerCase())
  }
  add(request.headers.get("host") ?? new URL(request.url).host)
  add(request.headers.get("x-forwarded-host")?.split(",")[0])
  if (poolUrl)
    try {
      add(new URL(poolUrl).host)
    } catch {}
  return hosts
}
