// core/setup/steps — the wizard's screens, in order, and their validation. Pure: the same rules serve
// the HTMX wizard, the JSON API and `cellule setup --answers`. Errors are per field, as stable codes
// the views translate (views/i18n: setup.err.<code>).
import { isSector, type Sector } from "./sectors.ts"
import type { NetworkAnswer } from "../vip/net.ts"

export const STEPS = [
  "license",
  "identity",
  "topology",
  "hardware",
  "network",
  "models",
  "security",
  "admin",
  "recap",
] as const
/** Steps a wizard may leave unanswered: the HA network step (no answer: no VIP). */
export const OPTIONAL_STEPS: readonly StepId[] = ["network"]
export type StepId = (typeof STEPS)[number]
export const isStep = (s: unknown): s is StepId => typeof s === "string" && (STEPS as readonly string[]).includes(s)

export const MODEL_TIERS = ["fast", "reasoning", "code"] as const
export type ModelTier = (typeof MODEL_TIERS)[number]
export const RETENTION_CHOICES = [6, 12, 24, 120] as const
export const MAX_SITES = 50

export interface Site {
  name: string
  headcount: number
}

/** What each step stores in cluster_setup_state.answers (never a password, never a logo: those have columns). */
export interface Answers {
  license?: { mode: "evaluation" | "token" }
  identity?: { company: string; sector: Sector }
  topology?: { sites: Site[] }
  hardware?: { cpu_workers: boolean; gpu_servers: number; provisioning_hub_url: string | null }
  /** The HA network step (admin guide §4.7): no VIP, or the VIP settings (the VRRP password is kept apart). */
  network?: NetworkAnswer
  models?: { tiers: ModelTier[] }
  /** null: left empty (the sector default applies); "unlimited" is an explicit choice. */
  security?: { retention_months: number | "unlimited" | null }
  admin?: { email: string }
}

export type FieldErrors = Record<string, string>
export type StepResult<T> = { ok: true; value: T } | { ok: false; errors: FieldErrors }

type Input = Record<string, unknown>

const str = (v: unknown): string =>
  Array.isArray(v) ? str(v[0]) : typeof v === "string" ? v.trim() : typeof v === "number" ? String(v) : ""
const list = (v: unknown): unknown[] => (v === undefined || v === null || v === "" ? [] : Array.isArray(v) ? v : [v])
const truthy = (v: unknown) => v === true || ["on", "true", "1", "yes"].includes(str(v).toLowerCase())

function done<T>(errors: FieldErrors, value: () => T): StepResult<T> {
  return Object.keys(errors).length ? { ok: false, errors } : { ok: true, value: value() }
}

/** The wizard's company-name rule (also applied to branding edits and to a peer's "branding" envelope). */
export function checkCompany(v: unknown): { company: string; error?: "required" | "too_long" } {
  const company = str(v).replace(/\s+/g, " ")
  return { company, error: !company ? "required" : company.length > 120 ? "too_long" : undefined }
}

export function validateIdentity(input: Input): StepResult<NonNullable<Answers["identity"]>> {
  const { company, error } = checkCompany(input.company)
  const sector = str(input.sector).toUpperCase()
  const errors: FieldErrors = {}
  if (error) errors.company = error
  if (!sector) errors.sector = "required"
  else if (!isSector(sector)) errors.sector = "invalid_choice"
  return done(errors, () => ({ company, sector: sector as Sector }))
}

/** Sites come as JSON `{sites:[{name, headcount}]}` or as form fields `site_name` / `site_headcount` (repeated). */
export function validateTopology(input: Input): StepResult<NonNullable<Answers["topology"]>> {
  const raw: { name: unknown; headcount: unknown }[] = Array.isArray(input.sites)
    ? (input.sites as Input[]).map((s) => ({ name: s?.name, headcount: s?.headcount }))
    : list(input.site_name).map((name, i) => ({ name, headcount: list(input.site_headcount)[i] }))
  const errors: FieldErrors = {}
  const sites: Site[] = []
  const seen = new Set<string>()
  raw.forEach((s, i) => {
    const name = str(s.name)
    const hc = str(s.headcount)
    if (!name && !hc) return // an empty row the admin added and left
    if (!name) errors[`site_name.${i}`] = "required"
    else if (name.length > 80) errors[`site_name.${i}`] = "too_long"
    else if (seen.has(name.toLowerCase())) errors[`site_name.${i}`] = "duplicate"
    const n = hc === "" ? 0 : Number(hc)
    if (!Number.isInteger(n) || n < 0 || n > 1_000_000) errors[`site_headcount.${i}`] = "not_a_count"
    seen.add(name.toLowerCase())
    sites.push({ name, headcount: Number.isInteger(n) ? n : 0 })
  })
  if (!sites.length && !Object.keys(errors).length) errors.sites = "at_least_one_site"
  if (sites.length > MAX_SITES) errors.sites = "too_many"
  return done(errors, () => ({ sites }))
}

export function validateHardware(input: Input): StepResult<NonNullable<Answers["hardware"]>> {
  const errors: FieldErrors = {}
  const gpuRaw = str(input.gpu_servers)
  const gpu = gpuRaw === "" ? 0 : Number(gpuRaw)
  if (!Number.isInteger(gpu) || gpu < 0 || gpu > 10_000) errors.gpu_servers = "not_a_count"
  const hub = str(input.provisioning_hub_url)
  if (hub) {
    try {
      const u = new URL(hub)
      if (!/^https?:$/.test(u.protocol)) errors.provisioning_hub_url = "invalid_url"
    } catch {
      errors.provisioning_hub_url = "invalid_url"
    }
  }
  return done(errors, () => ({
    cpu_workers: truthy(input.cpu_workers),
    gpu_servers: gpu,
    provisioning_hub_url: hub ? hub.replace(/\/+$/, "") : null,
  }))
}

export function validateModels(input: Input): StepResult<NonNullable<Answers["models"]>> {
  const tiers = list(input.tiers).map(str)
  const errors: FieldErrors = {}
  if (!tiers.length) errors.tiers = "at_least_one_tier"
  else if (tiers.some((t) => !(MODEL_TIERS as readonly string[]).includes(t))) errors.tiers = "invalid_choice"
  return done(errors, () => ({ tiers: MODEL_TIERS.filter((t) => tiers.includes(t)) }))
}

export function validateSecurity(input: Input): StepResult<NonNullable<Answers["security"]>> {
  const v = input.retention_months
  const s = v === null || v === undefined ? "" : str(v).toLowerCase()
  if (s === "" || s === "default") return { ok: true, value: { retention_months: null } }
  if (s === "unlimited") return { ok: true, value: { retention_months: "unlimited" } }
  const n = Number(s)
  if (!(RETENTION_CHOICES as readonly number[]).includes(n))
    return { ok: false, errors: { retention_months: "invalid_choice" } }
  return { ok: true, value: { retention_months: n } }
}

export const MIN_PASSWORD_LENGTH = 12

/** The admin step: the password is checked here and hashed by the caller; only the e-mail is kept in answers. */
export function validateAdmin(input: Input): StepResult<{ email: string; password: string }> {
  const email = str(input.email).toLowerCase()
  const password = typeof input.password === "string" ? input.password : ""
  const confirm = input.password_confirm
  const errors: FieldErrors = {}
  if (!email) errors.email = "required"
  else if (!/^[^\s@]+@[^\s@]+$/.test(email) || email.length > 254) errors.email = "invalid_email"
  if (!password) errors.password = "required"
  else if (password.length < MIN_PASSWORD_LENGTH) errors.password = "password_too_short"
  else if (password.length > 1024) errors.password = "too_long"
  if (typeof confirm === "string" && confirm !== password) errors.password_confirm = "password_mismatch"
  return done(errors, () => ({ email, password }))
}

export function validateLicenseChoice(
  input: Input,
): StepResult<{ mode: "evaluation" } | { mode: "token"; token: string }> {
  const mode = str(input.mode) || (str(input.token) ? "token" : "")
  if (mode === "evaluation") return { ok: true, value: { mode: "evaluation" } }
  const token = str(input.token)
  if (mode !== "token") return { ok: false, errors: { mode: "invalid_choice" } }
  if (!token) return { ok: false, errors: { token: "required" } }
  return { ok: true, value: { mode: "token", token } }
}

/** The steps still missing from `answers` (recap refuses to complete until this is empty). */
export function missingSteps(answers: Answers, hasAdminPassword: boolean): StepId[] {
  const missing: StepId[] = []
  for (const s of STEPS) {
    if (s === "recap" || OPTIONAL_STEPS.includes(s)) continue
    if (s === "admin" ? !answers.admin || !hasAdminPassword : !answers[s]) missing.push(s)
  }
  return missing
}
