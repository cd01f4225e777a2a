// core/setup/apply — `cellule setup --answers FILE.json` and CELLULE_SETUP_ANSWERS: the wizard,
// headless, step by step with the same validation, then completion. Reports what it applied.
import { AuditLog } from "../audit/index.ts"
import { randomBytes } from "node:crypto"
import { readFileSync } from "node:fs"
import type { Sql } from "../db/client.ts"
import type { Clock } from "../clock.ts"
import { BadRequest } from "../errors.ts"
import { completeSetup, saveStep, type Completion, type StepDeps } from "./state.ts"
import { STEPS } from "./steps.ts"

/** The answers file: one object per step, keys as in the wizard's forms (docs/setup.md). */
export interface AnswersFile {
  license?: { token?: string; token_file?: string; mode?: "evaluation" | "token" }
  identity: { company: string; sector: string; logo_file?: string; logo?: { base64: string } }
  topology: { sites: { name: string; headcount?: number }[] }
  hardware?: { cpu_workers?: boolean; gpu_servers?: number; provisioning_hub_url?: string | null }
  /** The HA network step, keys as in the wizard (docs/vip.md): vip_mode "none" (default), "first" or "join". */
  network?: {
    vip_mode?: "none" | "first" | "join"
    vip_address?: string
    vip_cidr?: string
    vip_interface?: string
    vip_vrid?: number
    vip_auth_pass?: string
    join_url?: string
    join_email?: string
    join_password?: string
  }
  models?: { tiers?: string[] }
  security?: { retention_months?: number | "unlimited" | null }
  /** Without a password, a random one is generated and never shown: use a one-time login link. */
  admin: { email: string; password?: string }
}

export interface HeadlessResult extends Completion {
  generatedPassword: boolean
}

export function readAnswersFile(path: string): AnswersFile {
  let parsed: unknown
  try {
    parsed = JSON.parse(readFileSync(path, "utf8"))
  } catch (e) {
    throw new BadRequest(`cannot read the answers file ${path}: ${(e as Error).message}`, "answers_invalid")
  }
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed))
    throw new BadRequest(`${path} must contain a JSON object`, "answers_invalid")
  return parsed as AnswersFile
}

/** Runs every step in order (the same checks as the wizard), then completes. Throws StepInvalid with the first bad step. */
export async function applyAnswers(
  sql: Sql,
  clock: Clock,
  file: AnswersFile,
  deps: StepDeps = {},
): Promise<HeadlessResult> {
  const a = file as unknown as Record<string, Record<string, unknown> | undefined>
  let generatedPassword = false
  for (const step of STEPS) {
    if (step === "recap") continue
    let input: Record<string, unknown> = { ...(a[step] ?? {}) }
    if (step === "license") {
      const token = typeof input.token_file === "string" ? readFileSync(input.token_file, "utf8").trim() : input.token
      input = token ? { mode: "token", token } : { mode: "evaluation" }
    }
    if (step === "identity" && typeof input.logo_file === "string")
      input.logo = { base64: readFileSync(input.logo_file).toString("base64") }
    if (step === "hardware")
      input = {
        cpu_workers: input.cpu_workers ?? true,
        gpu_servers: input.gpu_servers ?? 0,
        provisioning_hub_url: input.provisioning_hub_url ?? "",
      }
    if (step === "models") input = { tiers: input.tiers ?? ["fast"] }
    if (step === "admin" && !input.password) {
      input.password = randomBytes(24).toString("base64url")
      generatedPassword = true
    }
    await saveStep(sql, step, input, deps)
  }
  const done = await completeSetup(sql, clock)
  // The wizard's first audit row, written by the headless path too (actor: the admin it created).
  await new AuditLog(sql, clock).record({
    actor: { kind: "admin", id: done.adminEmail },
    action: "setup.complete",
    outcome: "success",
    details: {
      via: "headless",
      sector: done.policy.sector,
      audit_grade: done.policy.audit_grade,
      retention_months: done.policy.retention_months,
      sector_defaults_applied: done.policy.applied,
    },
  })
  return { ...done, generatedPassword }
}
