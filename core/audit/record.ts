// core/audit/record — appends one row to the audit log, when the pool's audit grade asks for it.
// The database computes the chain (sql/0016_audit.sql); this side only shapes and cleans the entry.
// Never stores document content or secrets: details are metadata, and known secret keys are redacted.
import type { Clock } from "../clock.ts"
import type { Sql, Tx } from "../db/client.ts"
import { logger } from "../log.ts"
import type { AuditGrade } from "../setup/sectors.ts"
import { type AuditAction, recordedAt } from "./actions.ts"

const log = logger("audit")

export type ActorKind = "admin" | "api_key" | "peer" | "system"

/** Who acted: an admin's e-mail, an API key id, a peer pool's atom, or the pool itself (`system`). */
export interface Actor {
  kind: ActorKind
  id: string
}

export const SYSTEM: Actor = { kind: "system", id: "system" }

export type Outcome = "success" | "failure" | "denied"

export interface AuditEntry {
  actor: Actor
  action: AuditAction
  outcome?: Outcome
  /** What was acted on: "key:ck_…", "admin:ops@x", "peer:<atom>", "document:42". */
  target?: string | null
  project?: string | null
  clientIp?: string | null
  details?: Record<string, unknown>
}

// Keys whose values are secrets or content; they are replaced, whatever their nesting.
const REDACTED_KEY =
  /^(password|passphrase|secret|token|api_?key|authorization|cookie|content|text|prompt|messages|input|body|query_text)$/i
const MAX_DETAILS_BYTES = 4096

/** Details with secret/content keys redacted and a size cap, so a careless caller cannot leak into the log. */
export function cleanDetails(details: Record<string, unknown> = {}): Record<string, unknown> {
  const walk = (v: unknown, depth: number): unknown => {
    if (Array.isArray(v)) return depth > 4 ? "[nested]" : v.map((x) => walk(x, depth + 1))
    if (v && typeof v === "object") {
      if (depth > 4) return "[nested]"
      const out: Record<string, unknown> = {}
      for (const [k, x] of Object.entries(v)) out[k] = REDACTED_KEY.test(k) ? "[redacted]" : walk(x, depth + 1)
      return out
    }
    if (typeof v === "string" && v.length > 512) return `${v.slice(0, 512)}…`
    if (typeof v === "bigint") return v.toString()
    return v
  }
  const out = walk(details, 0) as Record<string, unknown>
  const size = Buffer.byteLength(JSON.stringify(out))
  return size > MAX_DETAILS_BYTES ? { truncated: true, bytes: size } : out
}

const clip = (s: string | null | undefined, n: number) => (s == null || s === "" ? null : s.slice(0, n))

export interface AuditLogOptions {
  /** How long the grade read from cluster_profile is trusted before it is read again. */
  gradeTtlMs?: number
}

/** The recording side of the audit log; one per process, shared by every action site. */
export class AuditLog {
  private grade: AuditGrade | undefined
  private gradeReadAt = 0
  private readonly gradeTtlMs: number

  constructor(
    private readonly sql: Sql,
    private readonly clock: Clock,
    opts: AuditLogOptions = {},
  ) {
    this.gradeTtlMs = opts.gradeTtlMs ?? 30_000
  }

  /** The grade the wizard stored (cluster_profile.audit_grade); basic until setup completes. */
  async currentGrade(tx?: Tx): Promise<AuditGrade> {
    if (this.grade && this.clock.now() - this.gradeReadAt < this.gradeTtlMs) return this.grade
    // Inside a transaction, read through it: the embedded database has one connection, which it holds.
    const [p] = await (tx ?? this.sql)`select audit_grade from cluster_profile where id = 1`
    this.grade = (p?.audit_grade as AuditGrade | undefined) ?? "basic"
    this.gradeReadAt = this.clock.now()
    return this.grade
  }

  /** The cached grade while it is fresh, else undefined (then `currentGrade` reads it): for hot paths. */
  knownGrade(): AuditGrade | undefined {
    return this.grade && this.clock.now() - this.gradeReadAt < this.gradeTtlMs ? this.grade : undefined
  }

  /** Forget the cached grade (after the admin changes it). */
  invalidateGrade() {
    this.grade = undefined
  }

  /**
   * Appends the entry when the grade records its action; returns the row id, or null when the grade
   * skips it. Pass the caller's transaction so the action and its row commit or roll back together.
   */
  async record(entry: AuditEntry, tx?: Tx): Promise<number | null> {
    if (!recordedAt(await this.currentGrade(tx), entry.action)) return null
    const q = tx ?? this.sql
    const [row] = await q`insert into audit_log ${q({
      at: new Date(this.clock.now()),
      actor_kind: entry.actor.kind,
      actor_id: clip(entry.actor.id, 320) ?? "unknown",
      action: entry.action,
      target: clip(entry.target, 512),
      project: clip(entry.project, 128),
      client_ip: clip(entry.clientIp, 64),
      outcome: entry.outcome ?? "success",
      details: q.json(cleanDetails(entry.details) as never),
    } as never)} returning id`
    return Number(row.id)
  }

  /** For hot paths (API request metadata): never delays or fails the request; a failure is logged. */
  recordDetached(entry: AuditEntry): void {
    this.record(entry).catch((e) => log.error(`audit row for ${entry.action} not written: ${(e as Error).message}`))
  }
}
