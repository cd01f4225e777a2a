// core/audit/query — reading the audit log: filtered pages (newest first) for the API and the Audit
// page, and the export stream (oldest first) in CSV or JSON lines. Pages are keyset-paged on the
// primary key, so an export of years of rows holds one page in memory and never pins a connection
// (the embedded database has only one).
import type { Sql } from "../db/client.ts"
import { BadRequest } from "../errors.ts"
import type { ActorKind, Outcome } from "./record.ts"

export interface AuditRow {
  id: number
  at: string
  actor: { kind: ActorKind; id: string }
  action: string
  target: string | null
  project: string | null
  client_ip: string | null
  outcome: Outcome
  details: Record<string, unknown>
  prev_hash: string
  row_hash: string
}

export interface AuditFilter {
  /** Actor id (e-mail, key id, atom) or "kind:id". */
  actor?: string
  /** An action ("key.revoke") or a family ("key." or "key"). */
  action?: string
  project?: string
  from?: Date
  to?: Date
  /** Rows with an id below this one (the next page of a newest-first listing). */
  before?: number
  /** Rows with an id above this one (the live tail). */
  after?: number
  limit?: number
}

export const MAX_PAGE = 500

function toRow(r: Record<string, any>): AuditRow {
  return {
    id: Number(r.id),
    at: new Date(r.at).toISOString(),
    actor: { kind: r.actor_kind, id: r.actor_id },
    action: r.action,
    target: r.target,
    project: r.project,
    client_ip: r.client_ip,
    outcome: r.outcome,
    details: r.details,
    prev_hash: Buffer.from(r.prev_hash).toString("hex"),
    row_hash: Buffer.from(r.row_hash).toString("hex"),
  }
}

function where(sql: Sql, f: AuditFilter) {
  const parts = [sql`true`]
  if (f.actor) {
    const m = /^(admin|api_key|peer|system):(.+)$/.exec(f.actor)
    parts.push(m ? sql`actor_kind = ${m[1]} and actor_id = ${m[2]}` : sql`actor_id = ${f.actor}`)
  }
  if (f.action) {
    const family = f.action.endsWith(".") ? f.action : f.action.includes(".") ? null : `${f.action}.`
    parts.push(family ? sql`starts_with(action, ${family})` : sql`action = ${f.action}`)
  }
  if (f.project) parts.push(sql`project = ${f.project}`)
  if (f.from) parts.push(sql`at >= ${f.from}`)
  if (f.to) parts.push(sql`at < ${f.to}`)
  if (f.before !== undefined) parts.push(sql`id < ${f.before}`)
  if (f.after !== undefined) parts.push(sql`id > ${f.after}`)
  return parts.reduce((acc, p) => sql`${acc} and ${p}`)
}

/** Newest first (or, with `after`, the rows that followed it, oldest first, for a live tail). */
export async function listAudit(sql: Sql, f: AuditFilter = {}): Promise<AuditRow[]> {
  const limit = Math.min(Math.max(1, f.limit ?? 100), MAX_PAGE)
  const order = f.after !== undefined ? sql`id asc` : sql`id desc`
  const rows = await sql`select * from audit_log where ${where(sql, f)} order by ${order} limit ${limit}`
  return rows.map(toRow)
}

export type ExportFormat = "csv" | "jsonl"
export const isExportFormat = (s: unknown): s is ExportFormat => s === "csv" || s === "jsonl"

export const CSV_COLUMNS = [
  "id",
  "at",
  "actor_kind",
  "actor_id",
  "action",
  "target",
  "project",
  "client_ip",
  "outcome",
  "details",
  "prev_hash",
  "row_hash",
] as const

function csvField(v: unknown): string {
  const s = v == null ? "" : typeof v === "string" ? v : typeof v === "object" ? JSON.stringify(v) : String(v)
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s
}

function csvLine(r: AuditRow): string {
  const flat = {
    ...r,
    actor_kind: r.actor.kind,
    actor_id: r.actor.id,
  } as Record<string, unknown>
  return `${CSV_COLUMNS.map((c) => csvField(flat[c])).join(",")}\r\n`
}

/** Every row in [from, to), oldest first, as CSV (RFC 4180, with a header) or JSON lines, page by page. */
export async function* exportAudit(
  sql: Sql,
  opts: { format: ExportFormat; from?: Date; to?: Date; pageSize?: number },
): AsyncGenerator<string> {
  if (!isExportFormat(opts.format)) throw new BadRequest("format must be csv or jsonl", "audit_format_invalid")
  const pageSize = opts.pageSize ?? 1000
  if (opts.format === "csv") yield `${CSV_COLUMNS.join(",")}\r\n`
  let after = 0
  for (;;) {
    const f = { from: opts.from, to: opts.to, after }
    const rows = await sql`select * from audit_log where ${where(sql, f)} order by id asc limit ${pageSize}`
    if (!rows.length) return
    let chunk = ""
    for (const raw of rows) {
      const r = toRow(raw)
      chunk += opts.format === "csv" ? csvLine(r) : `${JSON.stringify(r)}\n`
    }
    after = Number(rows[rows.length - 1].id)
    yield chunk
    if (rows.length < pageSize) return
  }
}

/** An ISO 8601 time from a query string, or undefined; a bad one is a 400 naming the parameter. */
export function parseTime(name: string, v: string | undefined): Date | undefined {
  if (!v) return undefined
  const d = new Date(v)
  if (Number.isNaN(d.getTime())) throw new BadRequest(`${name} must be an ISO 8601 time`, "audit_time_invalid")
  return d
}
