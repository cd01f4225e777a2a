// core/license/issue — builds and signs licences on the issuing workstation. Every token is
// checked against the same schema verify() applies, so we never sign something the pool refuses.
import * as ed from "@noble/ed25519"
import { type Clock, systemClock } from "../clock.ts"
import { BadRequest } from "../errors.ts"
import { type License, parseClaims } from "./claims.ts"
import { LicenseRejected } from "./errors.ts"
import { b64urlEncode, LICENSE_HEADER, signingInput } from "./_jws.ts"
import { DAY_MS } from "./status.ts"
import { TIER_DEFAULTS, tierDefaults } from "./tiers.ts"

export interface IssueRequest {
  clientId: string
  tier: string
  /** Defaults to the tier's duration. */
  durationDays?: number
  /** Replaces the tier's feature set when given. */
  features?: readonly string[]
  /** Merged over the tier's limits; null removes a limit (unlimited). */
  limits?: Readonly<Record<string, number | null>>
  /** Defaults to the tier's grace period. */
  graceDays?: number
}

/** The claims for a request: tier defaults, then the request's overrides, validated. */
export function buildClaims(req: IssueRequest, now: number): License {
  const defaults = tierDefaults(req.tier)
  if (!defaults)
    throw new BadRequest(
      `unknown tier ${JSON.stringify(req.tier)}; known tiers: ${Object.keys(TIER_DEFAULTS).join(", ")}`,
      "tier_unknown",
    )
  const durationDays = req.durationDays ?? defaults.durationDays
  if (!Number.isSafeInteger(durationDays) || durationDays < 1)
    throw new BadRequest("duration must be a whole number of days, at least 1", "duration_invalid")
  const limits: Record<string, number> = { ...defaults.limits }
  for (const [name, max] of Object.entries(req.limits ?? {})) {
    if (max === null) delete limits[name]
    else limits[name] = max
  }
  const iat = Math.floor(now / 1000)
  const claims = parseClaims({
    client_id: req.clientId,
    tier: req.tier,
    features: req.features ?? defaults.features,
    limits,
    iat,
    exp: iat + durationDays * (DAY_MS / 1000),
    grace_days: req.graceDays ?? defaults.graceDays,
  })
  if (!claims.ok) throw new LicenseRejected("license_malformed", claims.message)
  return claims.license
}

/** Signs claims as a compact JWS with header {"alg":"EdDSA","typ":"JWT"}. */
export async function signLicense(claims: License, privateKey: Uint8Array): Promise<string> {
  const input = signingInput(LICENSE_HEADER, claims)
  const signature = await ed.signAsync(new TextEncoder().encode(input), privateKey)
  return `${input}.${b64urlEncode(signature)}`
}

export async function issueLicense(
  req: IssueRequest,
  privateKey: Uint8Array,
  opts: { clock?: Clock } = {},
): Promise<{ token: string; license: License }> {
  const license = buildClaims(req, (opts.clock ?? systemClock).now())
  return { token: await signLicense(license, privateKey), license }
}
