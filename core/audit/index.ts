// core/audit — the append-only, hash-chained audit log: recording (graded), reading, export,
// verification and retention. No HTTP here; routes call these and shape the answers.
export { ACTIONS, type AuditAction, isAuditAction, recordedAt } from "./actions.ts"
export { type Actor, type AuditEntry, AuditLog, cleanDetails, type Outcome, SYSTEM } from "./record.ts"
export {
  type AuditFilter,
  type AuditRow,
  CSV_COLUMNS,
  type ExportFormat,
  exportAudit,
  isExportFormat,
  listAudit,
  MAX_PAGE,
  parseTime,
} from "./query.ts"
export { type BreakReason, type VerifyResult, verifyAudit } from "./verify.ts"
export { type AuditService, auditService } from "./service.ts"
export { type AuditPeer, type ClusterAudit, clusterAudit, type PoolAudit } from "./cluster.ts"
export { applyRetention, monthsBefore, type PurgeReport, readRetention, RetentionJob } from "./retention.ts"
