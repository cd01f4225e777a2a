// core/setup/branding — the company name and logo after setup (Advanced settings): the wizard's own
// checks (checkCompany, logoFrom: size, type sniffing, SVG sanitising), then one "branding" envelope
// (core/federation/kinds/branding.ts): the branding is the cluster's, so every bonded pool's dashboard,
// login page and PDF cover follow it. Like cluster settings it is changed where settings are changed:
// a bonded satellite of the catalogue master answers 409 settings_read_only with the master's URL; a
// pool bonded to no one edits its own. Without federation (in-process apps) it is applied here alone.
import type { Sql } from "../db/client.ts"
import { BadRequest, Conflict } from "../errors.ts"
import { branding, type BrandingPayload } from "../federation/kinds/branding.ts"
import { encodeHlc } from "../federation/hlc.ts"
import { SettingsReadOnly, type SettingsRole } from "../settings/admin.ts"
import type { LogoMime } from "./logo.ts"
import { logoFrom, readLogo, readProfile } from "./state.ts"
import { checkCompany } from "./steps.ts"

export interface BrandingChange {
  company?: unknown
  /** A File (multipart form) or {base64} (JSON); empty: the logo stays. */
  logo?: unknown
  /** true: the logo is removed. */
  removeLogo?: boolean
}

export interface BrandingDeps {
  /** Publishes the change as a signed envelope (federation); absent: applied to this pool alone. */
  publish?: (kind: string, payload: unknown) => Promise<unknown>
  /** Master or satellite, as for cluster settings (core/settings/admin.ts settingsRole); absent: master. */
  role?: () => Promise<SettingsRole>
  /** The local stamp's origin without federation. */
  origin?: () => string
}

/**
 * Changes the company name and/or logo; 400 `company_invalid` / `logo_*` with the reason, 409
 * `setup_not_completed` before setup, 409 `settings_read_only` (with master_url) on a satellite.
 */
export async function updateBranding(sql: Sql, change: BrandingChange, deps: BrandingDeps = {}) {
  const current = await readProfile(sql)
  if (!current)
    throw new Conflict("setup is not completed yet: the wizard sets the company first", "setup_not_completed")
  let company: string | undefined
  if (change.company !== undefined && String(change.company).trim() !== "") {
    const r = checkCompany(change.company)
    if (r.error) throw new BadRequest(`company name: ${r.error}`, "company_invalid")
    company = r.company
  }
  const logo = change.removeLogo ? null : await logoFrom(change.logo)
  // After the checks, so a refused value still gets its reason (as settings do).
  const role = deps.role ? await deps.role() : undefined
  if (role?.role === "satellite") throw new SettingsReadOnly(role.master_url)
  // The whole record travels: what was not changed is sent as it is now.
  const kept = change.removeLogo || logo || !current.hasLogo ? null : await readLogo(sql)
  const next = logo ?? kept
  const payload: BrandingPayload = {
    company: company ?? current.company,
    logo: next ? { mime: next.mime as LogoMime, base64: Buffer.from(next.bytes).toString("base64") } : null,
  }
  if (deps.publish) await deps.publish(branding.kind, payload)
  else
    await branding.apply(sql, branding.parse(payload), {
      hlc: encodeHlc({ wall: Date.now(), counter: 0 }),
      origin: deps.origin?.() ?? "local",
    })
  return { company: payload.company, logo: change.removeLogo ? "removed" : logo ? logo.mime : "unchanged" }
}
