// core/http/request-log — the pool's request log: one line per answered request with the method, the route
// template (ids and tokens in the path replaced by :id, query string dropped), the status and the time to
// the response head. Never a body, a header or a query string. CELLULE_REQUEST_LOG=false turns it off.
import { logEvent, logger } from "../log.ts"
import { routeLabel } from "../metrics/prom.ts"

const log = logger("http")

/** The path as a template: /v1/… as the metrics label it; a page by its first segment only. */
export function requestRoute(pathname: string): string {
  if (pathname.startsWith("/v1/") || pathname === "/metrics" || pathname === "/") return routeLabel(pathname)
  const segs = pathname.split("/").filter(Boolean)
  const first = (segs[0] ?? "").replace(/[^\w.-]/g, "").slice(0, 40)
  return segs.length > 1 ? `/${first}/…` : `/${first}`
}

export function logRequest(method: string, pathname: string, status: number, ms: number) {
  const route = requestRoute(pathname)
  const duration_ms = Math.round(ms * 10) / 10
  logEvent(log, status >= 500 ? "warn" : "info", `${method} ${route} ${status} ${duration_ms}ms`, {
    method,
    route,
    status,
    duration_ms,
  })
}
