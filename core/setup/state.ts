// core/setup/state — the wizard's server-side state (the single cluster_setup_state row), saving a
// step, and completing: one transaction creates the admin, the profile and the sites, applies the
// sector defaults and sets completed_at. Never stores a clear password; never returns its hash.
import type { Sql, Tx } from "../db/client.ts"
import { CelluleError, Conflict } from "../errors.ts"
import { hashPassword } from "../crypto/password.ts"
import { logger } from "../log.ts"
import type { Clock } from "../clock.ts"
import { applySectorDefaults, type AppliedPolicy } from "./sectors.ts"
import {
  type Answers,
  type FieldErrors,
  missingSteps,
  type StepId,
  validateAdmin,
  validateHardware,
  validateIdentity,
  validateLicenseChoice,
  validateModels,
  validateSecurity,
  validateTopology,
} from "./steps.ts"
import { LogoInvalid, validateLogo, type Logo } from "./logo.ts"
import { resolveNetworkStep, type NetworkDeps } from "./network.ts"
import { writeVipConfig } from "../vip/store.ts"

const log = logger("setup")

/** Postgres NOTIFY channel other processes listen on (see gate.ts). */
export const SETUP_CHANNEL = "cellule_setup"

export class SetupCompleted extends Conflict {
  constructor() {
    super("the setup wizard is already completed; use re-open flow (chantier #17 license)", "setup_completed")
  }
}

export class SetupIncomplete extends CelluleError {
  constructor(readonly missing: StepId[]) {
    super("setup_incomplete", `these wizard steps are not done yet: ${missing.join(", ")}`, 400)
  }
  override extra() {
    return { missing: this.missing }
  }
}

export class StepInvalid extends CelluleError {
  constructor(
    readonly step: StepId,
    readonly errors: FieldErrors,
  ) {
    super(
      "setup_step_invalid",
      `the ${step} step has errors: ${Object.entries(errors)
        .map(([f, c]) => `${f} ${c}`)
        .join(", ")}`,
      400,
    )
  }
  override extra() {
    return { step: this.step, errors: this.errors }
  }
}

export interface SetupState {
  answers: Answers
  hasAdminPassword: boolean
  hasLogo: boolean
  completedAt: Date | null
  sectorDefaultsApplied: Record<string, unknown> | null
}

export async function readSetup(sql: Sql | Tx): Promise<SetupState> {
  const [row] = await sql`select answers, admin_password_hash is not null as has_pw, logo is not null as has_logo,
                                 completed_at, sector_defaults_applied from cluster_setup_state where id = 1`
  return {
    answers: (row?.answers ?? {}) as Answers,
    hasAdminPassword: !!row?.has_pw,
    hasLogo: !!row?.has_logo,
    completedAt: row?.completed_at ?? null,
    sectorDefaultsApplied: row?.sector_defaults_applied ?? null,
  }
}

export async function isSetupComplete(sql: Sql): Promise<boolean> {
  const [row] = await sql`select completed_at is not null as done from cluster_setup_state where id = 1`
  return !!row?.done
}

/** Hooks a step needs from other domains (the licence store installs a token). */
export interface StepDeps {
  installLicense?: (token: string) => Promise<unknown>
  /** The HA network step: this host's addresses and the joining pool's read of vip-info. */
  network?: NetworkDeps
}

/** The logo in a request: a File (multipart form) or {mime?, base64} (JSON, answers file). */
export async function logoFrom(v: unknown): Promise<Logo | null> {
  if (v && typeof v === "object" && "arrayBuffer" in v && typeof (v as Blob).arrayBuffer === "function") {
    const b = v as Blob
    if (b.size === 0) return null // a file input left empty
    if (b.size > 600 * 1024) throw new LogoInvalid("the logo is larger than 500 KB", "logo_too_large")
    return validateLogo(new Uint8Array(await b.arrayBuffer()))
  }
  if (v && typeof v === "object" && typeof (v as { base64?: unknown }).base64 === "string")
    return validateLogo(new Uint8Array(Buffer.from((v as { base64: string }).base64, "base64")))
  return null
}

/**
 * Validates and saves one step. Throws StepInvalid (400, per-field errors), SetupCompleted (409).
 * "recap" completes the wizard (see completeSetup).
 */
export async function saveStep(
  sql: Sql,
  step: StepId,
  input: Record<string, unknown>,
  deps: StepDeps = {},
): Promise<SetupState> {
  const invalid = (errors: FieldErrors) => new StepInvalid(step, errors)
  let patch: Partial<Answers> = {}
  let passwordHash: string | undefined
  let logo: Logo | null | undefined
  /** The network step's VRRP password (undefined: other steps leave it as it is). */
  let vipAuthPass: string | null | undefined
  // After completion every step is refused the same way, whatever the input (guide §1.6: 409).
  await assertOpen(sql)
  switch (step) {
    case "license": {
      const r = validateLicenseChoice(input)
      if (!r.ok) throw invalid(r.errors)
      if (r.value.mode === "token") {
        if (!deps.installLicense) throw invalid({ token: "license_unavailable" })
        try {
          await deps.installLicense(r.value.token)
        } catch (e) {
          if (e instanceof CelluleError && e.status < 500) throw invalid({ token: e.code })
          throw e
        }
      }
      patch = { license: { mode: r.value.mode } }
      break
    }
    case "identity": {
      const r = validateIdentity(input)
      let logoError: string | undefined
      try {
        logo = await logoFrom(input.logo)
      } catch (e) {
        if (!(e instanceof LogoInvalid)) throw e
        logoError = e.code
      }
      if (!r.ok || logoError) throw invalid({ ...(r.ok ? {} : r.errors), ...(logoError ? { logo: logoError } : {}) })
      patch = { identity: r.value }
      break
    }
    case "topology": {
      const r = validateTopology(input)
      if (!r.ok) throw invalid(r.errors)
      patch = { topology: r.value }
      break
    }
    case "hardware": {
      const r = validateHardware(input)
      if (!r.ok) throw invalid(r.errors)
      patch = { hardware: r.value }
      break
    }
    case "network": {
      const r = await resolveNetworkStep(input, deps.network)
      if (!r.ok) throw invalid(r.errors)
      patch = { network: r.answer }
      vipAuthPass = r.authPass
      break
    }
    case "models": {
      const r = validateModels(input)
      if (!r.ok) throw invalid(r.errors)
      patch = { models: r.value }
      break
    }
    case "security": {
      const r = validateSecurity(input)
      if (!r.ok) throw invalid(r.errors)
      patch = { security: r.value }
      break
    }
    case "admin": {
      const r = validateAdmin(input)
      if (!r.ok) throw invalid(r.errors)
      passwordHash = await hashPassword(r.value.password)
      patch = { admin: { email: r.value.email } }
      break
    }
    case "recap":
      throw new CelluleError("bad_request", "the recap step completes the wizard: use completeSetup", 400)
  }
  await sql.begin(async (tx) => {
    const [row] = await tx`select completed_at from cluster_setup_state where id = 1 for update`
    if (row?.completed_at) throw new SetupCompleted()
    const answers = { ...((await readSetup(tx)).answers as Answers), ...patch }
    await tx`insert into cluster_setup_state (id, answers) values (1, ${tx.json(answers as never)})
             on conflict (id) do update set answers = excluded.answers, updated_at = now()`
    if (passwordHash) await tx`update cluster_setup_state set admin_password_hash = ${passwordHash} where id = 1`
    if (vipAuthPass !== undefined) await tx`update cluster_setup_state set vip_auth_pass = ${vipAuthPass} where id = 1`
    if (logo)
      await tx`update cluster_setup_state set logo = ${Buffer.from(logo.bytes)}, logo_mime = ${logo.mime} where id = 1`
  })
  return readSetup(sql)
}

async function assertOpen(sql: Sql) {
  if (await isSetupComplete(sql)) throw new SetupCompleted()
}

export interface Completion {
  adminId: number
  adminEmail: string
  policy: AppliedPolicy
  sites: number
}

/** What completion would apply, for the recap screen (no writes). */
export function previewPolicy(answers: Answers): AppliedPolicy | null {
  if (!answers.identity) return null
  return applySectorDefaults(answers.identity.sector, { retention_months: answers.security?.retention_months ?? null })
}

/** Completes the wizard in one transaction and notifies other processes. Throws SetupIncomplete / SetupCompleted. */
export async function completeSetup(sql: Sql, clock: Clock): Promise<Completion> {
  const result = await sql.begin(async (tx) => {
    const [row] = await tx`select answers, admin_password_hash, logo, logo_mime, completed_at, vip_auth_pass
                           from cluster_setup_state where id = 1 for update`
    if (row?.completed_at) throw new SetupCompleted()
    const answers = (row?.answers ?? {}) as Answers
    const missing = missingSteps(answers, !!row?.admin_password_hash)
    if (missing.length) throw new SetupIncomplete(missing)
    const { identity, topology, hardware, models, admin } = answers as Required<Answers>
    const policy = previewPolicy(answers)!
    let adminId: number
    try {
      const [a] =
        await tx`insert into admin_users (email, password_hash) values (${admin.email}, ${row.admin_password_hash}) returning id`
      adminId = Number(a.id)
    } catch (e) {
      if ((e as { code?: string }).code === "23505")
        throw new Conflict(`an administrator ${admin.email} already exists`, "admin_exists")
      throw e
    }
    await tx`insert into cluster_profile ${tx({
      id: 1,
      company_name: identity.company,
      sector: identity.sector,
      logo: row.logo,
      logo_mime: row.logo_mime,
      audit_retention_months: policy.retention_months === "unlimited" ? null : policy.retention_months,
      audit_grade: policy.audit_grade,
      description_template: policy.template,
      cpu_workers_enabled: hardware.cpu_workers,
      gpu_servers: hardware.gpu_servers,
      provisioning_hub_url: hardware.provisioning_hub_url,
      model_tiers: models.tiers,
    } as never)} on conflict (id) do nothing`
    let position = 0
    for (const s of topology.sites)
      await tx`insert into cluster_sites (name, headcount, position) values (${s.name}, ${s.headcount}, ${position++})
               on conflict (name) do update set headcount = excluded.headcount`
    // The HA network step: the VIP settings `cellule vip` reads through /v1/cluster/vip-self (§4.7).
    const net = answers.network
    if (net && net.mode !== "none" && row.vip_auth_pass)
      await writeVipConfig(tx, {
        address: net.address,
        prefix: net.prefix,
        interface: net.interface,
        vrid: net.vrid,
        authPass: row.vip_auth_pass,
        priority: net.priority,
        joinedFrom: net.joined_from,
      })
    const applied = {
      sector: identity.sector,
      applied: policy.applied,
      source: policy.source,
      at: new Date(clock.now()).toISOString(),
    }
    await tx`update cluster_setup_state set completed_at = ${new Date(clock.now())}, sector_defaults_applied = ${tx.json(applied as never)},
             admin_password_hash = null, vip_auth_pass = null, updated_at = now() where id = 1`
    await tx`select pg_notify(${SETUP_CHANNEL}, 'completed')`
    return { adminId, adminEmail: admin.email, policy, sites: topology.sites.length }
  })
  const filled = Object.entries(result.policy.applied)
  log.info(
    `setup completed: admin ${result.adminEmail}, ${result.sites} site(s), sector ${result.policy.sector}` +
      (filled.length
        ? `; sector defaults applied: ${filled.map(([k, v]) => `${k}=${v}`).join(", ")}`
        : "; no sector default needed"),
  )
  if (filled.length)
    log.warn(
      `sector defaults recorded in cluster_setup_state.sector_defaults_applied: ${JSON.stringify(result.policy.applied)}`,
    )
  return result
}

export interface Profile {
  company: string
  sector: string
  hasLogo: boolean
  retentionMonths: number | null
  auditGrade: string
  template: string
  modelTiers: string[]
  sites: { name: string; headcount: number }[]
}

export async function readProfile(sql: Sql): Promise<Profile | null> {
  // The replicated branding (federation "branding" kind, sql/0030) wins once any pool has edited it.
  const [p] = await sql`select coalesce(b.company_name, p.company_name) as company_name, p.sector,
                               case when b.id is null then p.logo is not null else b.logo is not null end as has_logo,
                               p.audit_retention_months, p.audit_grade, p.description_template, p.model_tiers
                        from cluster_profile p left join cluster_branding b on true where p.id = 1`
  if (!p) return null
  // The replicated site list (federation "site" kind, edited from Worker balancing) wins once it has
  // rows; until then, what the wizard declared.
  const replicated = await sql`select name, headcount from sites order by name`.catch(() => [])
  const sites = replicated.length
    ? replicated
    : await sql`select name, headcount from cluster_sites order by position, id`
  return {
    company: p.company_name,
    sector: p.sector,
    hasLogo: p.has_logo,
    retentionMonths: p.audit_retention_months,
    auditGrade: p.audit_grade,
    template: p.description_template,
    modelTiers: p.model_tiers,
    sites: sites.map((s) => ({ name: s.name, headcount: Number(s.headcount) })),
  }
}

/**
 * The logo to show: the replicated branding's once any pool has edited it (none if it removed the
 * logo), else the profile's once completed, else the one uploaded in the wizard.
 */
export async function readLogo(sql: Sql): Promise<{ mime: string; bytes: Uint8Array } | null> {
  const [p] = await sql`select logo, logo_mime from cluster_branding where logo is not null
                        union all select logo, logo_mime from cluster_profile where id = 1 and logo is not null
                          and not exists (select 1 from cluster_branding)
                        union all select logo, logo_mime from cluster_setup_state where id = 1 and logo is not null
                          and not exists (select 1 from cluster_branding) limit 1`
  return p ? { mime: p.logo_mime, bytes: new Uint8Array(p.logo) } : null
}
