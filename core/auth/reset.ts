// core/auth/reset — `cellule admin-reset-password`: new Argon2id hash, every session of that admin ended.
import { AuditLog } from "../audit/index.ts"
import { systemClock } from "../clock.ts"
import type { Config } from "../config/index.ts"
import type { Sql } from "../db/client.ts"
import { withDatabase } from "../db/with-database.ts"
import { NotFound } from "../errors.ts"
import { hashPassword } from "../crypto/password.ts"
import { checkPassword } from "./admins.ts"

export async function resetAdminPassword(sql: Sql, email: string, password: string): Promise<void> {
  checkPassword(password)
  const hash = await hashPassword(password)
  await sql.begin(async (tx) => {
    const rows = await tx`update admin_users set password_hash = ${hash}, password_changed_at = now()
                          where email = ${email.trim().toLowerCase()} returning id`
    if (!rows.length) throw new NotFound(`no administrator ${email}`, "admin_not_found")
    await tx`delete from admin_sessions where admin_id = ${rows[0].id}`
    // in the same transaction: a reset that is not in the audit log did not happen
    await new AuditLog(sql, systemClock).record(
      {
        actor: { kind: "system", id: "admin-reset-password" },
        action: "admin.password_reset",
        target: `admin:${email.trim().toLowerCase()}`,
        outcome: "success",
        details: { sessions_ended: true },
      },
      tx,
    )
  })
}

/** The same, for the command: opens the configured database, resets, closes. */
export const resetAdminPasswordIn = (config: Readonly<Config>, email: string, password: string) =>
  withDatabase(config, (sql) => resetAdminPassword(sql, email, password))
