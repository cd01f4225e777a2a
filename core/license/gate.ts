// core/license/gate — pure gate decisions for the HTTP layer: they throw a CelluleError or return.
// No I/O, no logging, no HTTP types: the caller builds the state per request and logs (see docs/licensing.md).
import type { License } from "./claims.ts"
import { FeatureNotLicensed, LicenseExpired, LicenseInvalid, LicenseRevoked, LimitReached } from "./errors.ts"
import { type LicenseStatus, statusAt } from "./status.ts"
import type { VerifyResult } from "./verify.ts"

/** The runtime statuses plus `invalid`: a stored token that no longer verifies (e.g. a new build key). */
export type GateStatus = LicenseStatus | "invalid"

export interface LicenseState {
  readonly status: GateStatus
  /** The licence when it verified (or verified but is revoked); null for none and invalid. */
  readonly license: License | null
  /** cluster_license.enforce; false bypasses every licence gate (§7.6 emergency override). */
  readonly enforce: boolean
}

/**
 * The state for one request, from the outcome of verifying the stored token (null: none installed).
 * `revoked` is the DB flag; the shipped list already shows up as a client_revoked result.
 */
export function licenseState(
  verified: VerifyResult | null,
  now: number,
  opts: { enforce?: boolean; revoked?: boolean } = {},
): LicenseState {
  const enforce = opts.enforce ?? true
  if (!verified) return { status: "none", license: null, enforce }
  if (verified.ok)
    return {
      status: statusAt(verified.license, now, { revoked: opts.revoked }).status,
      license: verified.license,
      enforce,
    }
  if (verified.error === "client_revoked") return { status: "revoked", license: verified.license, enforce }
  return { status: "invalid", license: null, enforce }
}

const READS = new Set(["GET", "HEAD", "OPTIONS"])

export function isReadMethod(method: string): boolean {
  return READS.has(method.toUpperCase())
}

/** Reads always pass; mutations get 402 when the licence is expired, revoked or invalid (and enforced). */
export function checkMutation(method: string, state: LicenseState): void {
  if (isReadMethod(method)) return
  refuseIfLapsed(state)
}

/** 402 when lapsed; 403 feature_not_licensed when a licence is installed without `feature`; no licence passes. */
export function requireFeature(feature: string, state: LicenseState): void {
  refuseIfLapsed(state)
  if (!state.enforce || !state.license) return
  if (!state.license.features.includes(feature)) throw new FeatureNotLicensed(feature)
}

/**
 * 402 `limit_reached:<name>=<current>>=<max>` when `current` (counted by the caller, now) has reached
 * the licence's limit. An undeclared limit, or no licence, is unlimited.
 */
export function requireLimit(name: string, current: number, state: LicenseState): void {
  refuseIfLapsed(state)
  if (!state.enforce || !state.license) return
  if (!Object.hasOwn(state.license.limits, name)) return
  const max = state.license.limits[name]
  if (current >= max) throw new LimitReached(name, current, max)
}

function refuseIfLapsed(state: LicenseState): void {
  if (!state.enforce) return
  if (state.status === "expired") throw new LicenseExpired()
  if (state.status === "revoked") throw new LicenseRevoked()
  if (state.status === "invalid") throw new LicenseInvalid()
}
