// core/auth/legacy — boot-time migration of admin_users rows that still hold a clear-text password
// (images older than Argon2id): re-hash them in place. Idempotent: rows starting with $argon2 are skipped.
import type { Sql } from "../db/client.ts"
import { hashPassword, isArgon2Hash } from "../crypto/password.ts"
import { logger } from "../log.ts"

const log = logger("auth")

/** Returns how many rows were re-hashed. */
export async function rehashLegacyPasswords(sql: Sql): Promise<number> {
  const rows = await sql`select id, password_hash from admin_users where password_hash not like '$argon2%'`
  let n = 0
  for (const r of rows) {
    if (isArgon2Hash(r.password_hash)) continue
    const hash = await hashPassword(r.password_hash)
    // Compare-and-set: a concurrent boot that re-hashed first wins; we never hash a hash.
    const done =
      await sql`update admin_users set password_hash = ${hash} where id = ${r.id} and password_hash = ${r.password_hash} returning id`
    n += done.length
  }
  if (n) log.info(`re-hashed ${n} legacy clear-text admin password(s) with Argon2id`)
  return n
}
