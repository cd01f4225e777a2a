// core/audit/service — the audit log as the HTTP edge and the action sites see it: functions that
// already hold the database, so no route or page ever touches SQL. One per pool process.
import type { Clock } from "../clock.ts"
import type { Sql } from "../db/client.ts"
import { type AuditFilter, type ExportFormat, exportAudit, listAudit } from "./query.ts"
import { AuditLog, type AuditEntry, type AuditLogOptions } from "./record.ts"
import { applyRetention, readRetention, RetentionJob } from "./retention.ts"
import { verifyAudit } from "./verify.ts"

export function auditService(sql: Sql, clock: Clock, opts: AuditLogOptions = {}) {
  const log = new AuditLog(sql, clock, opts)
  return {
    /** Appends a row when the grade records the action (see actions.ts); `tx` joins the caller's transaction. */
    record: (entry: AuditEntry, tx?: Parameters<AuditLog["record"]>[1]) => log.record(entry, tx),
    /** For hot paths: never delays or fails the caller. */
    recordDetached: (entry: AuditEntry) => log.recordDetached(entry),
    grade: () => log.currentGrade(),
    /** The grade without waiting, when it is cached and fresh; undefined means "ask grade()". */
    knownGrade: () => log.knownGrade(),
    invalidateGrade: () => log.invalidateGrade(),
    list: (f: AuditFilter) => listAudit(sql, f),
    export: (opts: { format: ExportFormat; from?: Date; to?: Date }) => exportAudit(sql, opts),
    verify: () => verifyAudit(sql),
    retention: () => readRetention(sql),
    applyRetention: () => applyRetention(sql, clock),
    retentionJob: (intervalMs?: number) => new RetentionJob(sql, clock, { intervalMs }),
  }
}

export type AuditService = ReturnType<typeof auditService>
