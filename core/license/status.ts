// core/license/status — the runtime status of an installed licence at a given instant. Pure: the
// caller passes the time (its Clock) and whether the licence is revoked; nothing is cached here.
import type { License } from "./claims.ts"

export type LicenseStatus = "active" | "warning_j30" | "grace" | "expired" | "revoked" | "none"

export const DAY_MS = 86_400_000
/** `warning_j30` starts when `exp` is this many days away, or fewer. */
export const WARNING_DAYS = 30

export interface StatusReport {
  readonly status: LicenseStatus
  readonly client_id: string | null
  readonly tier: string | null
  readonly features: readonly string[]
  readonly limits: Readonly<Record<string, number>>
  readonly issued_at: string | null
  readonly expires_at: string | null
  /** End of the grace window (`exp + grace_days`); equals expires_at when grace_days is 0. */
  readonly grace_ends_at: string | null
  /** Whole days until `exp`, rounded up; 0 or negative once past it. */
  readonly days_remaining: number | null
  /** Whole days left in the grace window, rounded up; null outside `grace`. */
  readonly grace_days_remaining: number | null
}

/**
 * active: more than 30 days before exp · warning_j30: exp within 30 days (inclusive) ·
 * grace: exp <= now < exp + grace_days · expired: past the grace window ·
 * revoked: `revoked` (DB flag or shipped list), whatever the dates · none: no licence (evaluation mode).
 */
export function statusAt(license: License | null, now: number, opts: { revoked?: boolean } = {}): StatusReport {
  if (!license) return NONE
  const expMs = license.exp * 1000
  const graceEndMs = expMs + license.grace_days * DAY_MS
  const status: LicenseStatus = opts.revoked
    ? "revoked"
    : now < expMs - WARNING_DAYS * DAY_MS
      ? "active"
      : now < expMs
        ? "warning_j30"
        : now < graceEndMs
          ? "grace"
          : "expired"
  return {
    status,
    client_id: license.client_id,
    tier: license.tier,
    features: license.features,
    limits: license.limits,
    issued_at: iso(license.iat * 1000),
    expires_at: iso(expMs),
    grace_ends_at: iso(graceEndMs),
    days_remaining: wholeDays(expMs - now),
    grace_days_remaining: status === "grace" ? wholeDays(graceEndMs - now) : null,
  }
}

const NONE: StatusReport = Object.freeze({
  status: "none",
  client_id: null,
  tier: null,
  features: [],
  limits: {},
  issued_at: null,
  expires_at: null,
  grace_ends_at: null,
  days_remaining: null,
  grace_days_remaining: null,
})

const iso = (ms: number) => new Date(ms).toISOString()
// `|| 0` turns Math.ceil's -0 into 0.
const wholeDays = (ms: number) => Math.ceil(ms / DAY_MS) || 0
