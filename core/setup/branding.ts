// core/setup/branding — the company name and logo after setup (Advanced settings): the wizard's own
// checks (validateIdentity's name rule, logoFrom: size, type sniffing, SVG sanitising), then one update
// of this pool's profile. The profile is per pool (not replicated): each pool's dashboard is branded
// by its own administrator.
import type { Sql } from "../db/client.ts"
import { BadRequest, Conflict } from "../errors.ts"
import { logoFrom } from "./state.ts"
import { validateIdentity } from "./steps.ts"

export interface BrandingChange {
  company?: unknown
  /** A File (multipart form) or {base64} (JSON); empty: the logo stays. */
  logo?: unknown
  /** true: the logo is removed. */
  removeLogo?: boolean
}

/** Changes the company name and/or logo; 400 `company_invalid` / `logo_*` with the reason, 409 before setup. */
export async function updateBranding(sql: Sql, change: BrandingChange) {
  const [p] = await sql`select sector from cluster_profile where id = 1`
  if (!p) throw new Conflict("setup is not completed yet: the wizard sets the company first", "setup_not_completed")
  let company: string | undefined
  if (change.company !== undefined && String(change.company).trim() !== "") {
    const r = validateIdentity({ company: change.company, sector: p.sector })
    if (!r.ok) throw new BadRequest(`company name: ${r.errors.company ?? "invalid"}`, "company_invalid")
    company = r.value.company
  }
  const logo = change.removeLogo ? null : await logoFrom(change.logo)
  await sql.begin(async (tx) => {
    if (company !== undefined) await tx`update cluster_profile set company_name = ${company} where id = 1`
    if (change.removeLogo) await tx`update cluster_profile set logo = null, logo_mime = null where id = 1`
    else if (logo)
      await tx`update cluster_profile set logo = ${Buffer.from(logo.bytes)}, logo_mime = ${logo.mime} where id = 1`
  })
  return { company: company ?? null, logo: change.removeLogo ? "removed" : logo ? logo.mime : "unchanged" }
}
