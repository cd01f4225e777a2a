// core/workers/provisioning — single-use provisioning codes and the long-lived per-worker tokens
// they are redeemed for. Stores only SHA-256 hashes of both; never returns a secret twice.
import type { Sql } from "../db/client.ts"
import type { Clock } from "../clock.ts"
import { CelluleError, NotFound } from "../errors.ts"
import { hashToken, newToken } from "../crypto/token.ts"

export type WorkerOs = "linux" | "macos" | "windows"
export type WorkerHardware = "cpu" | "gpu"

export const CODE_PREFIX = "cwp_"
export const WORKER_TOKEN_PREFIX = "cwt_"

export class ProvisionCodeInvalid extends CelluleError {
  constructor() {
    // One answer for unknown, used and expired codes: a guesser learns nothing.
    super(
      "provision_code_invalid",
      "this provisioning code is unknown, already used or expired",
      401,
      "generate a new one on the Workers page of the dashboard",
    )
  }
}

export interface IssuedCode {
  id: number
  code: string
  os: WorkerOs
  hardware: WorkerHardware
  expiresAt: number
}

/** Create a single-use code; the clear code is returned once and stored hashed. */
export async function createProvisionCode(
  sql: Sql,
  clock: Clock,
  opts: { os: WorkerOs; hardware: WorkerHardware; label?: string; ttlMs: number },
): Promise<IssuedCode> {
  const code = newToken(CODE_PREFIX, 18)
  const expiresAt = clock.now() + opts.ttlMs
  const [row] = await sql`insert into worker_provision_codes (code_hash, os, hardware, label, created_at, expires_at)
    values (${hashToken(code)}, ${opts.os}, ${opts.hardware}, ${opts.label ?? ""}, ${new Date(clock.now())}, ${new Date(expiresAt)})
    returning id`
  return { id: Number(row.id), code, os: opts.os, hardware: opts.hardware, expiresAt }
}

export interface Redeemed {
  tokenId: number
  token: string
  name: string
  os: WorkerOs
  hardware: WorkerHardware
}

/**
 * Exchange a code for a worker token. The conditional UPDATE … RETURNING is the whole guard:
 * of any number of concurrent redemptions exactly one row update succeeds; the others see no row.
 */
export async function redeemProvisionCode(sql: Sql, clock: Clock, code: string, name: string): Promise<Redeemed> {
  if (!code.startsWith(CODE_PREFIX) || code.length > 128) throw new ProvisionCodeInvalid()
  const token = newToken(WORKER_TOKEN_PREFIX, 32)
  const now = new Date(clock.now())
  const workerName = (name || "worker").replace(/[^\w.-]/g, "-").slice(0, 128) || "worker"
  return sql.begin(async (tx) => {
    const [claimed] = await tx`update worker_provision_codes set redeemed_at = ${now}
      where code_hash = ${hashToken(code)} and redeemed_at is null and expires_at > ${now}
      returning id, os, hardware`
    if (!claimed) throw new ProvisionCodeInvalid()
    const [t] = await tx`insert into worker_tokens (token_hash, name, os, hardware, created_at)
      values (${hashToken(token)}, ${workerName}, ${claimed.os}, ${claimed.hardware}, ${now}) returning id`
    await tx`update worker_provision_codes set worker_token_id = ${t.id} where id = ${claimed.id}`
    await tx`insert into worker_audit_log (at, worker, event, detail)
      values (${now}, ${workerName}, 'enrolled', ${tx.json({ token_id: Number(t.id), os: claimed.os, hardware: claimed.hardware })})`
    return { tokenId: Number(t.id), token, name: workerName, os: claimed.os, hardware: claimed.hardware }
  }) as Promise<Redeemed>
}

/** The live (not revoked) token matching a presented worker token, or null. */
export async function workerToken(sql: Sql, presented: string): Promise<{ id: number; name: string } | null> {
  if (!presented.startsWith(WORKER_TOKEN_PREFIX)) return null
  // Lookup by hash: the hash of a 256-bit random token reveals nothing through timing.
  const [row] =
    await sql`select id, name from worker_tokens where token_hash = ${hashToken(presented)} and revoked_at is null`
  return row ? { id: Number(row.id), name: row.name } : null
}

/** True when a presented worker token is one this pool issued and has since revoked. */
export async function workerTokenRevoked(sql: Sql, presented: string): Promise<boolean> {
  if (!presented.startsWith(WORKER_TOKEN_PREFIX)) return false
  const [row] =
    await sql`select 1 from worker_tokens where token_hash = ${hashToken(presented)} and revoked_at is not null`
  return !!row
}

/** Remember which worker id (hello) uses a token: what revocation by worker id looks up. */
export async function bindWorkerId(sql: Sql, tokenId: number, workerId: string) {
  if (!/^[A-Za-z0-9_-]{8,64}$/.test(workerId)) return
  await sql`update worker_tokens set worker_id = ${workerId}
    where id = ${tokenId} and worker_id is distinct from ${workerId}`
}

export async function workerTokenId(sql: Sql, presented: string): Promise<number | null> {
  return (await workerToken(sql, presented))?.id ?? null
}

export async function touchWorkerToken(sql: Sql, clock: Clock, id: number) {
  await sql`update worker_tokens set last_seen_at = ${new Date(clock.now())} where id = ${id}`
}

export async function revokeWorkerToken(sql: Sql, clock: Clock, id: number): Promise<void> {
  const now = new Date(clock.now())
  await sql.begin(async (tx) => {
    const [row] =
      // hlc '' marks it for publishing: the revocation reaches every bonded pool (core/workers/cluster.ts).
      await tx`update worker_tokens set revoked_at = coalesce(revoked_at, ${now}), hlc = '' where id = ${id} returning name`
    if (!row) throw new NotFound(`no worker token ${id}`, "worker_token_not_found")
    await tx`insert into worker_audit_log (at, worker, event, detail) values (${now}, ${row.name}, 'revoked', ${tx.json({ token_id: id })})`
  })
}

/** Revoke every live token a worker id was seen with; returns their ids (404 when it has none). */
export async function revokeWorkerById(sql: Sql, clock: Clock, workerId: string): Promise<number[]> {
  const now = new Date(clock.now())
  return sql.begin(async (tx) => {
    const rows = await tx`update worker_tokens set revoked_at = ${now}
      where worker_id = ${workerId} and revoked_at is null returning id, name`
    if (!rows.length) {
      const [known] = await tx`select 1 from worker_tokens where worker_id = ${workerId}`
      if (!known) throw new NotFound(`no worker ${workerId} has joined with a provisioned token`, "worker_not_found")
    }
    for (const r of rows)
      await tx`insert into worker_audit_log (at, worker, event, detail)
        values (${now}, ${r.name}, 'revoked', ${tx.json({ token_id: Number(r.id), worker_id: workerId })})`
    return rows.map((r) => Number(r.id))
  }) as Promise<number[]>
}

export interface WorkerTokenRow {
  id: number
  /** The worker id last seen with this token (null until it joined). */
  worker_id: string | null
  name: string
  os: string
  hardware: string
  created_at: Date
  last_seen_at: Date | null
  revoked_at: Date | null
}

export async function listWorkerTokens(sql: Sql): Promise<WorkerTokenRow[]> {
  const rows =
    await sql`select id, worker_id, name, os, hardware, created_at, last_seen_at, revoked_at from worker_tokens order by id`
  return rows.map((r) => ({ ...r, id: Number(r.id) })) as unknown as WorkerTokenRow[]
}

export async function auditWorker(
  sql: Sql,
  clock: Clock,
  worker: string,
  event: string,
  detail: Record<string, unknown> = {},
  at?: number,
) {
  await sql`insert into worker_audit_log (at, worker, event, detail)
    values (${new Date(at ?? clock.now())}, ${worker.slice(0, 128)}, ${event.slice(0, 64)}, ${sql.json(detail as never)})`
}

export async function workerAudit(sql: Sql, limit = 200) {
  return sql`select at, worker, event, detail from worker_audit_log order by id desc limit ${limit}`
}
