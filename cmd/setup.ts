// cellule setup — completes the first-boot wizard headlessly (scripted installs): the same steps and
// validation as /setup/ui, from an answers file and/or flags; prints what it applied.
import { defineCommand } from "citty"
import { cittyArgs, loadConfig } from "../core/config/index.ts"
import { systemClock } from "../core/clock.ts"
import { setLogLevel } from "../core/log.ts"
import { readAnswersFile, type AnswersFile } from "../core/setup/index.ts"
import { loginLinkForExisting, setupHeadless } from "../core/setup/headless.ts"
import { BadRequest } from "../core/errors.ts"
import { repeated } from "./_flags.ts"

export default defineCommand({
  meta: {
    name: "setup",
    description: "Complete the first-boot wizard without a browser (answers file: docs/setup.md)",
  },
  args: {
    ...cittyArgs("cli"),
    answers: { type: "string", description: "Answers file (JSON), one object per wizard step" },
    company: { type: "string", description: "Company name (overrides the file)" },
    sector: { type: "string", description: "LAW, HEALTHCARE, ACCOUNTING, ARCHITECTURE, DESIGN, CONSULTING or OTHER" },
    site: { type: "string", description: "Site as NAME or NAME:HEADCOUNT (repeatable)" },
    "admin-email": { type: "string", description: "Administrator e-mail" },
    retention: {
      type: "string",
      description: "Audit retention in months (6, 12, 24, 120) or unlimited; default: the sector's",
    },
    "login-link": { type: "boolean", description: "Print a one-time dashboard login link (valid 24 h)" },
  },
  async run({ args, rawArgs }) {
    const config = loadConfig("cli", args)
    setLogLevel(config.logLevel === "info" ? "warn" : config.logLevel)
    if (args["login-link"] && !args.answers && !args.company) return printLinkForExisting(config, args["admin-email"])
    const file: Partial<AnswersFile> = args.answers ? readAnswersFile(args.answers) : {}
    if (args.company || args.sector)
      file.identity = {
        ...(file.identity ?? { company: "", sector: "" }),
        ...(args.company ? { company: args.company } : {}),
        ...(args.sector ? { sector: args.sector } : {}),
      }
    const sites = repeated(rawArgs, "site")
    if (sites.length)
      file.topology = {
        sites: sites.map((s) => ({ name: s.replace(/:\d+$/, ""), headcount: Number(s.match(/:(\d+)$/)?.[1] ?? 0) })),
      }
    if (args["admin-email"]) file.admin = { ...(file.admin ?? {}), email: args["admin-email"] }
    if (args.retention)
      file.security = { retention_months: args.retention === "unlimited" ? "unlimited" : Number(args.retention) }
    if (!file.identity || !file.topology || !file.admin)
      throw new BadRequest("give --answers FILE, or --company, --sector, --site and --admin-email", "answers_invalid")

    const r = await setupHeadless(config, systemClock, file as AnswersFile, { loginLink: !!args["login-link"] })
    const p = r.policy
    console.log(
      `OK: setup completed for ${file.identity.company} (${p.sector}), ${r.sites} site(s), administrator ${r.adminEmail}`,
    )
    console.log(
      `policy: audit retention ${p.retention_months === "unlimited" ? "unlimited" : `${p.retention_months} months`} (${p.source.retention_months}), audit grade ${p.audit_grade} (${p.source.audit_grade}), template "${p.template}" (${p.source.template})`,
    )
    const applied = Object.entries(p.applied)
    console.log(
      applied.length
        ? `sector defaults applied: ${applied.map(([k, v]) => `${k}=${v}`).join(", ")}`
        : "sector defaults applied: none (every field was chosen)",
    )
    if (r.generatedPassword)
      console.log(
        "the administrator has a random password nobody knows: sign in with a one-time login link, or set one with `cellule admin-reset-password`",
      )
    if (r.loginLink) console.log(`login link: ${r.loginLink}`)
  },
})

/** `cellule setup --login-link` on a completed pool: a fresh one-time link (npm start on a second run). */
async function printLinkForExisting(config: ReturnType<typeof loadConfig>, email?: string) {
  const r = await loginLinkForExisting(config, systemClock, email)
  console.log(`setup already completed; administrator ${r.email}`)
  console.log(`login link: ${r.loginLink}`)
}
