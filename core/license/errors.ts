// core/license/errors — the licence domain's errors. Verification failures carry the stable codes
// the guide names (jwt_invalid, client_revoked, ...); gate refusals carry the HTTP status the edge returns.
import { CelluleError } from "../errors.ts"

/** Why a token was refused, in validation order: structure/signature, then schema, then revocation. */
export type VerifyErrorCode = "jwt_invalid" | "license_malformed" | "client_revoked"

/** A token was refused (upload, boot, `cellule license verify`). */
export class LicenseRejected extends CelluleError {
  constructor(code: VerifyErrorCode, message: string, hint = REJECTION_HINTS[code]) {
    super(code, message, 400, hint)
  }
}

const REJECTION_HINTS: Record<VerifyErrorCode, string> = {
  jwt_invalid:
    "the token is corrupt, was not signed by CELLULE.ai, or this build's public key is the all-zero placeholder",
  license_malformed: "the token is signed but its payload does not follow docs/licensing.md; ask for a new one",
  client_revoked: "this client is on the revocation list shipped with this release",
}

/** A key file could not be written or read (`key_exists`, `key_unreadable`, `key_invalid`). */
export class LicenseKeyError extends CelluleError {
  constructor(
    code: "key_exists" | "key_unreadable" | "key_invalid",
    message: string,
    hint?: string,
    options?: ErrorOptions,
  ) {
    super(code, message, 400, hint, options)
  }
}

/** A mutation refused because the installed licence no longer allows it: 402 Payment Required. */
export class LicenseRequired extends CelluleError {
  constructor(code: string, message: string, hint = "upload a renewed licence in the admin dashboard") {
    super(code, message, 402, hint)
  }
}

export class LicenseExpired extends LicenseRequired {
  constructor(
    message = "the licence has expired and its grace period is over: mutations are refused, reads still work",
  ) {
    super("license_expired", message)
  }
}

export class LicenseRevoked extends LicenseRequired {
  constructor(message = "the licence has been revoked: mutations are refused, reads still work") {
    super("license_revoked", message)
  }
}

export class LicenseInvalid extends LicenseRequired {
  constructor(
    message = "the installed licence does not verify against this build's public key: mutations are refused",
  ) {
    super("license_invalid", message)
  }
}

/** The code embeds the numbers (`limit_reached:max_pools=5>=5`), as the guide specifies. */
export class LimitReached extends LicenseRequired {
  constructor(
    readonly limit: string,
    readonly current: number,
    readonly max: number,
  ) {
    super(
      `limit_reached:${limit}=${current}>=${max}`,
      `the licence allows ${max} for ${limit} and ${current} are in use`,
      "ask for a licence with a higher limit",
    )
  }
  override extra() {
    return { limit: this.limit, current: this.current, max: this.max }
  }
}

export class FeatureNotLicensed extends CelluleError {
  constructor(readonly feature: string) {
    super(
      "feature_not_licensed",
      `the installed licence does not include the feature "${feature}"`,
      403,
      "ask for a licence that includes it",
    )
  }
  override extra() {
    return { feature: this.feature }
  }
}
