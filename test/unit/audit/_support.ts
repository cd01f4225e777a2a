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
