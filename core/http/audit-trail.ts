// core/http/audit-trail — how a route records what it did: `audited` runs the action and writes one
// audit row with the actor, the client address and the outcome (success, or failure/denied with the
// error code) — the error still reaches the error mapper. Recording lives in core/audit.
import type { Actor, AuditEntry } from "../audit/index.ts"
import { CelluleError } from "../errors.ts"
import { logger } from "../log.ts"
import type { PoolServices } from "../pool/services.ts"
import { clientIp } from "./client-ip.ts"
import { resolveAdmin } from "./guards.ts"
import { pathOf } from "./request-path.ts"
import type { Srv } from "./session.ts"

const log = logger("audit")

export interface AuditContext {
  actor: Actor
  request: Request
  server: Srv
}

export const adminActor = (admin: { email: string }): Actor => ({ kind: "admin", id: admin.email })

/** What a route did: the action and what it touched; the actor, address and outcome are added. */
export type AuditedAction = Omit<AuditEntry, "actor" | "clientIp" | "outcome">
type What = AuditedAction

/**
 * Records `what` as done by `c.actor` (outcome from how `run` ends) and returns what `run` returned.
 * `fromResult` adds what is only known once the action succeeded (the id of what it created).
 */
export async function audited<T>(
  s: PoolServices,
  c: AuditContext,
  what: What,
  run: () => Promise<T> | T,
  fromResult?: (result: T) => Partial<What>,
): Promise<T> {
  const base = { ...what, actor: c.actor, clientIp: clientIp(c.request, c.server, s.config) ?? null }
  let result: T
  try {
    result = await run()
  } catch (e) {
    const code = e instanceof CelluleError ? e.code : "internal_error"
    const denied = e instanceof CelluleError && (e.status === 401 || e.status === 403)
    await s.audit
      .record({ ...base, outcome: denied ? "denied" : "failure", details: { ...what.details, error: code } })
      .catch((err) => log.error(`audit row for failed ${what.action} not written: ${(err as Error).message}`))
    throw e
  }
  const extra = fromResult?.(result)
  await s.audit.record({
    ...base,
    ...extra,
    details: extra?.details ? { ...what.details, ...extra.details } : what.details,
    outcome: "success",
  })
  return result
}

/** One row for something that is not an action wrapped above (a failed sign-in, a sign-out). */
export function recordFrom(s: PoolServices, c: AuditContext, what: What & Pick<AuditEntry, "outcome">) {
  return s.audit.record({ ...what, actor: c.actor, clientIp: clientIp(c.request, c.server, s.config) ?? null })
}

// Not "API requests" for the iso27001 grade: health checks (every few seconds from each proxy) and
// pool-to-pool replication (signed, and logged by the federation itself).
const NOT_API = /^\/v1\/(?:status$|federation\/p2p\/)/

/**
 * At the iso27001 grade, one row per API request: who, method, path (never the query string, which may
 * carry search terms), status and time to the response head; never the content. Detached: the caller
 * never waits for it, and at other grades it costs a cached grade check.
 */
export function recordApiRequest(
  s: PoolServices,
  request: Request,
  ip: string | undefined,
  status: number,
  ms: number,
) {
  const path = pathOf(request)
  if (!path.startsWith("/v1/") || NOT_API.test(path)) return
  // The common case answers without a promise: the grade is cached and records no API request.
  const known = s.audit.knownGrade()
  if (known !== undefined && known !== "iso27001") return
  void (async () => {
    if ((await s.audit.grade()) !== "iso27001") return
    await s.audit.record({
      actor: await requestActor(s, request, ip),
      action: "api.request",
      target: `${request.method} ${path}`,
      clientIp: ip ?? null,
      outcome: status < 400 ? "success" : status === 401 || status === 403 ? "denied" : "failure",
      details: { method: request.method, path, status, ms: Math.round(ms * 10) / 10 },
    })
  })().catch((e) => log.error(`audit row for ${request.method} ${path} not written: ${(e as Error).message}`))
}

/** The API key or administrator behind a request; anyone else is recorded by address as `anonymous`. */
async function requestActor(s: PoolServices, request: Request, ip: string | undefined): Promise<Actor> {
  const auth = request.headers.get("authorization") ?? ""
  if (auth.startsWith("Bearer ") && s.apiKeys) {
    const key = await s.apiKeys.find(auth.slice(7).trim())
    if (key) return { kind: "api_key", id: key.id }
  }
  // a refused CSRF token is still the session's admin for the record; it is the route that refused it
  const admin = await resolveAdmin(s, request, ip).catch(() => null)
  return admin ? adminActor(admin) : { kind: "system", id: "anonymous" }
}

/** What the cluster audit view (core/audit/cluster-peers.ts) needs from the services. */
export const clusterOf = (s: PoolServices) => ({
  audit: s.audit,
  poolName: s.config.poolName,
  fed: s.federation,
  minTrust: s.config.minTrustLevel,
})
