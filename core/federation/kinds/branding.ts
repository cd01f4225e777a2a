// Replicated kind "branding" (issue 19): the company name and logo every pool shows (dashboard header,
// login page, PDF cover), edited where settings are edited (the catalogue master) and last writer wins
// by (hlc, origin). The whole record travels: name and logo together, so two edits never mix.
// On arrival the payload passes the wizard's own checks (core/setup/steps.ts checkCompany, core/setup/
// logo.ts validateLogo: size, type sniffed from the bytes, SVG sanitised again): a peer's signature
// proves who sent a logo, not that it is harmless, so a script in an SVG never reaches our pages.
import type { Sql, Tx } from "../../db/client.ts"
import { CelluleError } from "../../errors.ts"
import { MAX_LOGO_BYTES, validateLogo, type LogoMime } from "../../setup/logo.ts"
import { checkCompany } from "../../setup/steps.ts"
import type { ReplicatedKind, Stamp } from "./index.ts"
import { NEWER_WINS } from "./_lww.ts"

export interface BrandingPayload {
  company: string
  /** The logo's bytes (base64) as the wizard stores them; null: no logo. */
  logo: { mime: LogoMime; base64: string } | null
}

const invalid = (m: string) => new CelluleError("payload_invalid", m, 400)
/** Base64 of MAX_LOGO_BYTES, padded: anything longer is too large before it is decoded. */
const MAX_BASE64 = Math.ceil(MAX_LOGO_BYTES / 3) * 4

export const branding: ReplicatedKind<BrandingPayload> = {
  kind: "branding",
  parse(payload) {
    const p = payload as Partial<BrandingPayload> | null
    if (!p || typeof p !== "object" || Array.isArray(p)) throw invalid("branding needs an object")
    const { company, error } = checkCompany(p.company)
    if (error || typeof p.company !== "string") throw invalid(`branding company name: ${error ?? "not a string"}`)
    if (p.logo === null || p.logo === undefined) return { company, logo: null }
    const b64 = (p.logo as { base64?: unknown }).base64
    if (typeof p.logo !== "object" || typeof b64 !== "string") throw invalid("branding logo is {mime, base64} or null")
    if (b64.length > MAX_BASE64) throw invalid(`logo_too_large: the logo is larger than ${MAX_LOGO_BYTES / 1024} KB`)
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) throw invalid("logo_invalid: the logo is not base64")
    let logo: ReturnType<typeof validateLogo>
    try {
      logo = validateLogo(new Uint8Array(Buffer.from(b64, "base64")))
    } catch (e) {
      throw invalid(`${(e as CelluleError).code ?? "logo_invalid"}: ${(e as Error).message}`)
    }
    // The type is read from the bytes; a declared type that disagrees is a forged or broken envelope.
    const declared = (p.logo as { mime?: unknown }).mime
    if (declared !== undefined && declared !== logo.mime)
      throw invalid(`logo_type: declared ${String(declared).slice(0, 40)}, the bytes are ${logo.mime}`)
    return { company, logo: { mime: logo.mime, base64: Buffer.from(logo.bytes).toString("base64") } }
  },
  async apply(sql: Sql | Tx, p, s: Stamp) {
    const rows = await sql.unsafe(
      `insert into cluster_branding as t (id, company_name, logo, logo_mime, hlc, origin) values (true, $1, $2, $3, $4, $5)
       on conflict (id) do update set company_name = excluded.company_name, logo = excluded.logo,
         logo_mime = excluded.logo_mime, hlc = excluded.hlc, origin = excluded.origin, updated_at = now()
       ${NEWER_WINS}
       returning id`,
      [p.company, p.logo ? Buffer.from(p.logo.base64, "base64") : null, p.logo?.mime ?? null, s.hlc, s.origin],
    )
    return rows.length > 0
  },
}
