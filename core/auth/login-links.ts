// core/auth/login-links — one-time dashboard login links (`npm start` prints one instead of a default
// password): a random token stored hashed, valid once, for a short time.
import { randomBytes } from "node:crypto"
import type { Sql } from "../db/client.ts"
import type { Clock } from "../clock.ts"
import { hashToken } from "../crypto/token.ts"

export const LOGIN_LINK_TTL_MS = 24 * 3600_000
export const LOGIN_LINK_PATH = "/auth/once/"

export async function createLoginLink(
  sql: Sql,
  adminId: number,
  clock: Clock,
  ttlMs = LOGIN_LINK_TTL_MS,
): Promise<string> {
  const token = randomBytes(32).toString("base64url")
  await sql`insert into admin_login_links (token_hash, admin_id, expires_at) values (${hashToken(token)}, ${adminId}, ${new Date(clock.now() + ttlMs)})`
  return token
}

/** The admin id when the token is valid and unused (it is then spent), else null. */
export async function consumeLoginLink(sql: Sql, token: string, clock: Clock): Promise<number | null> {
  if (!token || token.length > 128) return null
  const [row] = await sql`update admin_login_links set used_at = ${new Date(clock.now())}
                          where token_hash = ${hashToken(token)} and used_at is null and expires_at > ${new Date(clock.now())}
                          returning admin_id`
  return row ? Number(row.admin_id) : null
}
