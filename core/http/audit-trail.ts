// core/http/audit-trail — how a route records what it did: `audited` runs the action and writes one
// audit row with the actor, the client address and the outcome (success, or failure/denied with the
// error code) — the error still reaches the error mapper. Recording lives in core/audit.
import type { Actor, AuditEntry } from "../audit/index.ts"
import { CelluleError } from "../errors.ts"
import { logger } from "../log.ts"
import type { PoolServices } from "../pool/services.ts"
import { clientIp } from "./client-ip.ts"
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

/** Records `what` as done by `c.actor` (outcome from how `run` ends) and returns what `run` returned. */
export async function audited<T>(s: PoolServices, c: AuditContext, what: What, run: () => Promise<T> | T): Promise<T> {
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
  await s.audit.record({ ...base, outcome: "success" })
  return result
}

/** One row for something that is not an action wrapped above (a failed sign-in, a sign-out). */
export function recordFrom(s: PoolServices, c: AuditContext, what: What & Pick<AuditEntry, "outcome">) {
  return s.audit.record({ ...what, actor: c.actor, clientIp: clientIp(c.request, c.server, s.config) ?? null })
}
