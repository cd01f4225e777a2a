// Audit test helpers: the cluster profile the wizard would leave (grade, retention), and a tamper
// helper that edits a row the way a database superuser can (triggers off for the session).
import type { Sql } from "../../../core/db/client.ts"
import type { AuditGrade } from "../../../core/setup/sectors.ts"

export async function setProfile(sql: Sql, grade: AuditGrade, retentionMonths: number | null, sector = "LAW") {
  await sql`insert into cluster_profile ${sql({
    id: 1,
    company_name: "Cabinet Test",
    sector,
    audit_retention_months: retentionMonths,
    audit_grade: grade,
    description_template: "",
    cpu_workers_enabled: true,
    gpu_servers: 0,
    model_tiers: ["fast"],
  } as never)} on conflict (id) do update set audit_grade = excluded.audit_grade,
    audit_retention_months = excluded.audit_retention_months, sector = excluded.sector`
}

/** Runs `fn` with triggers disabled, as only a superuser can; reserves a connection so the setting stays put. */
export async function asSuperuserBypassingTriggers(sql: Sql, fn: (q: Sql) => Promise<unknown>) {
  const conn = await sql.reserve()
  try {
    await conn`set session_replication_role = replica`
    await fn(conn as unknown as Sql)
  } finally {
    await conn`set session_replication_role = origin`
    conn.release()
  }
}

/** RFC 4180 parser (quoted fields may hold commas, quotes and line breaks); records end with CRLF. */
export function parseCsv(text: string): string[][] {
  const records: string[][] = []
  let field = ""
  let record: string[] = []
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"'
        i++
      } else if (ch === '"') quoted = false
      else field += ch
    } else if (ch === '"') quoted = true
    else if (ch === ",") {
      record.push(field)
      field = ""
    } else if (ch === "\r" && text[i + 1] === "\n") {
      record.push(field)
      records.push(record)
      record = []
      field = ""
      i++
    } else field += ch
  }
  return records
}
