// core/audit/actions — every action the audit log knows, and the audit grade from which it is
// recorded (guide §1.6): basic = administration, strict = + document reads and searches,
// iso27001 = + every API request's metadata. Adding an action is one line here.
import type { AuditGrade } from "../setup/sectors.ts"

export const GRADES: readonly AuditGrade[] = ["basic", "strict", "iso27001"]

export const ACTIONS = {
  // Dashboard sessions (a failed sign-in is admin.sign_in with outcome failure).
  "admin.sign_in": "basic",
  "admin.sign_out": "basic",
  "admin.create": "basic",
  "admin.delete": "basic",
  "admin.password_reset": "basic",
  "admin.scope": "basic",
  "key.create": "basic",
  "key.update": "basic",
  "key.revoke": "basic",
  "license.install": "basic",
  "license.remove": "basic",
  "setting.change": "basic",
  "setup.complete": "basic",
  "bond.create": "basic",
  "bond.accept": "basic",
  "bond.revoke": "basic",
  "trust.grant": "basic",
  "trust.revoke": "basic",
  "worker.provision_code": "basic",
  "worker.enrol": "basic",
  "worker.revoke": "basic",
  // Worker migration orders (core/workers/migration): every transition.
  "migration.issue": "basic",
  "migration.approve": "basic",
  "migration.reject": "basic",
  "migration.drain": "basic",
  "migration.complete": "basic",
  "migration.rollback": "basic",
  // A worker pinned to its home pool or unpinned (§4.2; the balancer never moves a pinned worker).
  "worker.pin": "basic",
  "project.create": "basic",
  "project.update": "basic",
  "project.delete": "basic",
  "document.upload": "basic",
  "document.delete": "basic",
  "migration.order": "basic",
  // The model probe (core/catalog/probe.ts): started, and a flagged model accepted.
  "model.probe": "basic",
  "model.probe_accept": "basic",
  "audit.export": "basic",
  // The model catalogue (issue 18).
  "model.upload": "basic",
  "model.delete": "basic",
  "model.assign_class": "basic",
  "model.assign_tier": "basic",
  "model.promote_master": "basic",
  "audit.purge": "basic",
  "document.read": "strict",
  "document.search": "strict",
  "api.request": "iso27001",
} as const satisfies Record<string, AuditGrade>

export type AuditAction = keyof typeof ACTIONS

export const isAuditAction = (a: unknown): a is AuditAction => typeof a === "string" && Object.hasOwn(ACTIONS, a)

/** Whether a pool at `grade` records `action`. */
export function recordedAt(grade: AuditGrade, action: AuditAction): boolean {
  return GRADES.indexOf(ACTIONS[action]) <= GRADES.indexOf(grade)
}
