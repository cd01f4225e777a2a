// core/auth/admins — administrator accounts and dashboard sessions (hashed tokens, expiry, CSRF).
import { randomBytes } from "node:crypto"
import type { Sql } from "../db/client.ts"
import { BadRequest, Conflict, NotFound } from "../errors.ts"
import { hashPassword, verifyPassword } from "../crypto/password.ts"
import { hashToken } from "../crypto/token.ts"
import type { Clock } from "../clock.ts"
import { type LicenseState, requireLimit } from "../license/gate.ts"

export const MIN_PASSWORD_LENGTH = 12
export const SESSION_TTL_MS = 12 * 3600_000

export interface Admin {
  id: number
  email: string
  /** The projects this administrator sees and manages; null: every project (sql/0028). */
  projects: string[] | null
}

const adminOf = (row: Record<string, unknown>): Admin => ({
  id: Number(row.id),
  email: row.email as string,
  projects: (row.projects as string[] | null) ?? null,
})

/** A scope as stored: null (every project) or the sorted distinct ids. */
export function normaliseScope(projects: readonly string[] | null | undefined): string[] | null {
  return projects == null ? null : [...new Set(projects.map((p) => p.trim()).filter(Boolean))].sort()
}

export interface Session {
  admin: Admin
  csrf: string
  expiresAt: number
}

export function normaliseEmail(email: string): string {
  const e = email.trim().toLowerCase()
  if (!/^[^\s@]+@[^\s@]+$/.test(e) || e.length > 254)
    throw new BadRequest(`"${email}" is not an e-mail address`, "email_invalid")
  return e
}

export function checkPassword(password: string) {
  if (password.length < MIN_PASSWORD_LENGTH)
    throw new BadRequest(`the password must have at least ${MIN_PASSWORD_LENGTH} characters`, "password_too_short")
}

export async function createAdmin(sql: Sql, email: string, password: string): Promise<Admin> {
  const e = normaliseEmail(email)
  checkPassword(password)
  const hash = await hashPassword(password)
  try {
    const [row] =
      await sql`insert into admin_users (email, password_hash) values (${e}, ${hash}) returning id, email, projects`
    return adminOf(row)
  } catch (err) {
    if ((err as { code?: string }).code === "23505")
      throw new Conflict(`an administrator ${e} already exists`, "admin_exists")
    throw err
  }
}

/**
 * An administrator added from the dashboard or the API: 402 limit_reached:max_users when the licence's
 * `max_users` is reached. The count and the insert share one transaction behind a table lock, so two
 * concurrent adds cannot both take the last seat. `license` is read by the caller before (the store
 * queries the same single-connection database the transaction holds).
 */
export async function addAdmin(
  sql: Sql,
  email: string,
  password: string,
  license: LicenseState,
  projects: readonly string[] | null = null,
): Promise<Admin> {
  const e = normaliseEmail(email)
  checkPassword(password)
  const hash = await hashPassword(password) // outside the lock: ~30 ms of Argon2
  try {
    return await sql.begin(async (tx) => {
      await tx`lock table admin_users in share row exclusive mode`
      const [{ n }] = await tx`select count(*)::int as n from admin_users`
      requireLimit("max_users", n, license)
      const scope = normaliseScope(projects)
      const [row] = await tx`insert into admin_users (email, password_hash, projects)
                             values (${e}, ${hash}, ${scope}) returning id, email, projects`
      return adminOf(row)
    })
  } catch (err) {
    if ((err as { code?: string }).code === "23505")
      throw new Conflict(`an administrator ${e} already exists`, "admin_exists")
    throw err
  }
}

export async function listAdmins(sql: Sql): Promise<Admin[]> {
  const rows = await sql`select id, email, projects from admin_users order by id`
  return rows.map(adminOf)
}

/** Scope an administrator to projects (null: every project); 404 admin_not_found. */
export async function setAdminProjects(sql: Sql, id: number, projects: readonly string[] | null): Promise<Admin> {
  const [row] = await sql`update admin_users set projects = ${normaliseScope(projects)}
                          where id = ${id} returning id, email, projects`
  if (!row) throw new NotFound(`no administrator #${id}`, "admin_not_found")
  return adminOf(row)
}

/** The admin whose password matches, or null (same work done either way). */
export async function authenticate(sql: Sql, email: string, password: string): Promise<Admin | null> {
  let e: string
  try {
    e = normaliseEmail(email)
  } catch {
    return null
  }
  const [row] = await sql`select id, email, projects, password_hash from admin_users where email = ${e}`
  // Verify against a dummy hash for unknown accounts so timing does not reveal which e-mails exist.
  const ok = await verifyPassword(password, row?.password_hash ?? (await dummyHash()))
  return row && ok ? adminOf(row) : null
}

let dummy: Promise<string> | undefined
const dummyHash = () => (dummy ??= hashPassword(randomBytes(16).toString("hex")))

export async function createSession(
  sql: Sql,
  adminId: number,
  clock: Clock,
): Promise<{ token: string; csrf: string; expiresAt: number }> {
  const token = randomBytes(32).toString("base64url")
  const csrf = randomBytes(24).toString("base64url")
  const expiresAt = clock.now() + SESSION_TTL_MS
  await sql`insert into admin_sessions (token_hash, admin_id, csrf_token, expires_at)
            values (${hashToken(token)}, ${adminId}, ${csrf}, ${new Date(expiresAt)})`
  return { token, csrf, expiresAt }
}

export async function sessionFor(sql: Sql, token: string, clock: Clock): Promise<Session | null> {
  if (!token || token.length > 128) return null
  // The lookup key is the token's hash: a timing difference in the index search reveals nothing usable.
  const [row] = await sql`select s.csrf_token, s.expires_at, a.id, a.email, a.projects from admin_sessions s
                          join admin_users a on a.id = s.admin_id where s.token_hash = ${hashToken(token)}`
  if (!row || new Date(row.expires_at).getTime() <= clock.now()) return null
  return {
    admin: adminOf(row),
    csrf: row.csrf_token,
    expiresAt: new Date(row.expires_at).getTime(),
  }
}

export async function deleteSession(sql: Sql, token: string) {
  await sql`delete from admin_sessions where token_hash = ${hashToken(token)}`
}

export async function adminByEmail(sql: Sql, email: string): Promise<Admin | null> {
  const [row] = await sql`select id, email, projects from admin_users where email = ${email.trim().toLowerCase()}`
  return row ? adminOf(row) : null
}
