// cellule admin-reset-password — the air-gapped password reset (guide §1.6): asks twice without echo
// (or reads two lines from piped stdin), stores the Argon2id hash, ends the admin's sessions. No network.
import { defineCommand } from "citty"
import { cittyArgs, loadConfig } from "../core/config/index.ts"
import { setLogLevel } from "../core/log.ts"
import { resetAdminPasswordIn } from "../core/auth/reset.ts"
import { BadRequest } from "../core/errors.ts"
import { readSecretLines } from "./_prompt.ts"

export default defineCommand({
  meta: {
    name: "admin-reset-password",
    description: "Set a dashboard administrator's password from the pool host (prompts twice, no echo)",
  },
  args: { ...cittyArgs("cli"), email: { type: "string", required: true, description: "The administrator's e-mail" } },
  async run({ args }) {
    const config = loadConfig("cli", args)
    setLogLevel(config.logLevel === "info" ? "warn" : config.logLevel)
    const email = args.email.trim().toLowerCase()
    const [password, confirm] = await readSecretLines([`New password for ${email}: `, "Confirm password: "])
    if (password !== confirm) throw new BadRequest("the two passwords differ; nothing was changed", "password_mismatch")
    await resetAdminPasswordIn(config, email, password)
    console.log(`OK: password reset for ${email}`)
  },
})
