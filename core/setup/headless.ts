// core/setup/headless — what `cellule setup` does against the database: apply an answers file (and
// mint a one-time login link), or mint a link for a pool already set up. Each call opens and closes
// the database itself, so the command file never holds a database handle.
import type { Config } from "../config/index.ts"
import { withDatabase } from "../db/with-database.ts"
import type { Clock } from "../clock.ts"
import { LicenseStore } from "../license/store.ts"
import { createLoginLink, LOGIN_LINK_PATH } from "../auth/login-links.ts"
import { BadRequest } from "../errors.ts"
import { applyAnswers, type AnswersFile, type HeadlessResult } from "./apply.ts"
import { isSetupComplete } from "./state.ts"

/** Applies the answers (as /setup/ui would); `loginLink` also returns a one-time dashboard link path. */
export function setupHeadless(
  config: Readonly<Config>,
  clock: Clock,
  file: AnswersFile,
  opts: { loginLink?: boolean } = {},
): Promise<HeadlessResult & { loginLink?: string }> {
  return withDatabase(config, async (sql) => {
    const license = new LicenseStore(sql)
    const r = await applyAnswers(sql, clock, file, { installLicense: (t) => license.install(t, "cellule setup") })
    if (!opts.loginLink) return r
    return { ...r, loginLink: `${LOGIN_LINK_PATH}${await createLoginLink(sql, r.adminId, clock)}` }
  })
}

/** `cellule setup --login-link` on a completed pool: the admin (by e-mail, else the first) and a fresh link path. */
export function loginLinkForExisting(
  config: Readonly<Config>,
  clock: Clock,
  email?: string,
): Promise<{ email: string; loginLink: string }> {
  return withDatabase(config, async (sql) => {
    if (!(await isSetupComplete(sql)))
      throw new BadRequest("setup is not completed yet: give --answers FILE", "setup_pending")
    const [admin] = email
      ? await sql`select id, email from admin_users where email = ${email.trim().toLowerCase()}`
      : await sql`select id, email from admin_users order by id limit 1`
    if (!admin) throw new BadRequest(`no administrator${email ? ` ${email}` : ""}`, "admin_not_found")
    return {
      email: String(admin.email),
      loginLink: `${LOGIN_LINK_PATH}${await createLoginLink(sql, Number(admin.id), clock)}`,
    }
  })
}
