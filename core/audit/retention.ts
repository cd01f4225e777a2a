// core/audit/retention — the daily job that applies the retention the wizard stored (the sector's
// default or the admin's choice, cluster_profile.audit_retention_months; null = unlimited): audit
// rows go through audit_purge() (which writes the checkpoint), usage rows (api_usage) are deleted.
import type { Clock } from "../clock.ts"
import type { Sql } from "../db/client.ts"
import { Loop } from "../federation/loop.ts"
import { logger } from "../log.ts"

const log = logger("audit.retention")

export const DAY_MS = 24 * 3600_000

export type Retention = { months: number } | "unlimited" | "not_configured"

export async function readRetention(sql: Sql): Promise<Retention> {
  const [p] = await sql`select audit_retention_months from cluster_profile where id = 1`
  if (!p) return "not_configured"
  return p.audit_retention_months == null ? "unlimited" : { months: Number(p.audit_retention_months) }
}

/** `now` minus whole calendar months (UTC); the 31st falls back to the month's last day. */
export function monthsBefore(now: number, months: number): Date {
  const d = new Date(now)
  const day = d.getUTCDate()
  d.setUTCDate(1)
  d.setUTCMonth(d.getUTCMonth() - months)
  const last = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate()
  d.setUTCDate(Math.min(day, last))
  return d
}

export interface PurgeReport {
  retention: Retention
  cutoff: Date | null
  auditPurged: number
  checkpointId: number | null
  usagePurged: number
}

/** One pass: purges what is older than the retention, in one transaction, and logs what it removed. */
export async function applyRetention(sql: Sql, clock: Clock): Promise<PurgeReport> {
  const retention = await readRetention(sql)
  if (typeof retention === "string") {
    log.info(
      retention === "unlimited"
        ? "retention unlimited: nothing purged"
        : "setup not completed: no retention yet, nothing purged",
    )
    return { retention, cutoff: null, auditPurged: 0, checkpointId: null, usagePurged: 0 }
  }
  const now = clock.now()
  const cutoff = monthsBefore(now, retention.months)
  const report = await sql.begin(async (tx) => {
    const [a] = await tx`select purged, checkpoint_id from audit_purge(${cutoff}, ${new Date(now)})`
    const u = await tx`delete from api_usage where created_at < ${cutoff}`
    return {
      retention,
      cutoff,
      auditPurged: Number(a.purged),
      checkpointId: a.checkpoint_id == null ? null : Number(a.checkpoint_id),
      usagePurged: u.count,
    }
  })
  log.info(
    `retention ${retention.months} months: purged ${report.auditPurged} audit row(s) and ${report.usagePurged} usage row(s) older than ${cutoff.toISOString()}` +
      (report.checkpointId ? ` (checkpoint row ${report.checkpointId})` : ""),
  )
  return report
}

/** The daily job: start() runs a pass at once, then every intervalMs; stop() awaits a pass in flight. */
export class RetentionJob {
  private readonly loop: Loop
  last: PurgeReport | null = null

  constructor(sql: Sql, clock: Clock, opts: { intervalMs?: number } = {}) {
    this.loop = new Loop(
      "audit retention",
      opts.intervalMs ?? DAY_MS,
      async () => {
        this.last = await applyRetention(sql, clock)
      },
      log,
      opts.intervalMs ?? DAY_MS,
    )
  }

  get state() {
    return this.loop.state
  }

  start() {
    this.loop.start({ immediate: true })
  }

  stop() {
    return this.loop.stop()
  }
}
