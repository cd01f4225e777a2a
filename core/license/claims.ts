// core/license/claims — the licence payload and its one schema, shared by issue (we never sign a
// token we would refuse) and verify. Knows nothing of signatures, keys or the clock.

/** A verified licence: the token's claims, normalised. Times are NumericDate seconds, as in the token. */
export interface License {
  readonly client_id: string
  readonly tier: string
  readonly features: readonly string[]
  readonly limits: Readonly<Record<string, number>>
  readonly iat: number
  readonly exp: number
  /** 0 when the token omits `grace_days`. */
  readonly grace_days: number
}

export const CLIENT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/
/** Tier, feature and limit names. */
export const NAME_PATTERN = /^[a-z][a-z0-9_]{0,63}$/
export const MAX_GRACE_DAYS = 365

export type ClaimsResult = { ok: true; license: License } | { ok: false; message: string }

/** Checks a decoded payload against the schema in docs/licensing.md; extra claims are ignored. */
export function parseClaims(payload: unknown): ClaimsResult {
  const fail = (message: string): ClaimsResult => ({ ok: false, message })
  if (!isPlainObject(payload)) return fail("payload is not a JSON object")
  const { client_id, tier, features, limits, iat, exp, grace_days } = payload

  if (typeof client_id !== "string" || !CLIENT_ID_PATTERN.test(client_id))
    return fail(`client_id must match ${CLIENT_ID_PATTERN}`)
  if (typeof tier !== "string" || !NAME_PATTERN.test(tier)) return fail(`tier must match ${NAME_PATTERN}`)

  if (!Array.isArray(features)) return fail("features must be an array of names")
  for (const f of features)
    if (typeof f !== "string" || !NAME_PATTERN.test(f))
      return fail(`feature ${JSON.stringify(f)} must match ${NAME_PATTERN}`)

  if (!isPlainObject(limits)) return fail("limits must be an object of name: integer")
  const cleanLimits: Record<string, number> = {}
  for (const [name, max] of Object.entries(limits)) {
    if (!NAME_PATTERN.test(name)) return fail(`limit name ${JSON.stringify(name)} must match ${NAME_PATTERN}`)
    if (!isCount(max)) return fail(`limit ${name} must be a non-negative integer`)
    cleanLimits[name] = max
  }

  if (!isCount(iat)) return fail("iat must be an integer number of seconds since the epoch")
  if (!isCount(exp)) return fail("exp must be an integer number of seconds since the epoch")
  if (exp <= iat) return fail("exp must be after iat")
  if (grace_days !== undefined && (!isCount(grace_days) || grace_days > MAX_GRACE_DAYS))
    return fail(`grace_days must be an integer between 0 and ${MAX_GRACE_DAYS}`)

  return {
    ok: true,
    license: Object.freeze({
      client_id,
      tier,
      features: Object.freeze([...new Set(features as string[])]),
      limits: Object.freeze(cleanLimits),
      iat,
      exp,
      grace_days: grace_days ?? 0,
    }),
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v)
}

function isCount(v: unknown): v is number {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0
}
