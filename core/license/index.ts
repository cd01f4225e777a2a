// core/license — offline licences: issue, verify, runtime status and gate decisions.
// Never phones home, never fetches a revocation list, never stops reads; see docs/licensing.md.
export type { License } from "./claims.ts"
export {
  FeatureNotLicensed,
  LicenseExpired,
  LicenseInvalid,
  LicenseKeyError,
  LicenseRejected,
  LicenseRequired,
  LicenseRevoked,
  LimitReached,
  type VerifyErrorCode,
} from "./errors.ts"
export {
  checkMutation,
  type GateStatus,
  isReadMethod,
  type LicenseState,
  licenseState,
  requireFeature,
  requireLimit,
} from "./gate.ts"
export { buildClaims, type IssueRequest, issueLicense, signLicense } from "./issue.ts"
export {
  generateKeyPair,
  type KeyPair,
  PRIVATE_KEY_FILE,
  PUBLIC_KEY_FILE,
  publicKeyOf,
  readPrivateKey,
  toHex,
  writeKeyPair,
} from "./keys.ts"
export { isPlaceholder, licensePubkey, PLACEHOLDER_PUBKEY } from "./pubkey.ts"
export { parseRevocationList, type RevocationEntry, type RevocationList, shippedRevocationList } from "./revocation.ts"
export {
  LicenseAlreadyExpired,
  LicenseStore,
  type LicenseStoreOptions,
  licenseStoreFor,
  type LicenseView,
} from "./store.ts"
export { type LicenseStatus, type StatusReport, statusAt, WARNING_DAYS } from "./status.ts"
export { FEATURES, type Feature, LIMITS, type Limit, TIER_DEFAULTS, type Tier, type TierDefaults } from "./tiers.ts"
export { MAX_TOKEN_LENGTH, verify, type VerifyOptions, verifyOrThrow, type VerifyResult } from "./verify.ts"
