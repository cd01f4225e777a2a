// core/license/verify — offline licence verification, in the guide's order: structure and Ed25519
// signature, then payload schema, then the shipped revocation list. Never fetches anything; never
// reports client_revoked (or any payload detail) for a token whose signature did not verify.
// jose parses the JWS and verifies it (the platform's Ed25519); @noble/ed25519's RFC 8032 strict check
// runs on top, because jose accepts a small-order public key (the identity point verifies a forged
// signature for any message). docs/licensing.md says which check catches what.
import * as ed from "@noble/ed25519"
import { compactVerify, errors as joseErrors, importJWK } from "jose"
import { type Clock, systemClock } from "../clock.ts"
import { type License, parseClaims } from "./claims.ts"
import { LicenseKeyError, LicenseRejected } from "./errors.ts"
import { b64urlDecode, decodeJsonSegment } from "./_jws.ts"
import { fromHex } from "./keys.ts"
import { type RevocationEntry, type RevocationList, shippedRevocationList } from "./revocation.ts"
import { type StatusReport, statusAt } from "./status.ts"

export type VerifyResult =
  | { ok: true; error?: undefined; license: License; status: StatusReport }
  | { ok: false; error: "jwt_invalid" | "license_malformed"; message: string }
  /** Genuine but revoked: the licence is returned so the admin page can say whose it was. */
  | { ok: false; error: "client_revoked"; message: string; license: License; revocation: RevocationEntry }

export interface VerifyOptions {
  /** Only used for the status in the result; the status must be recomputed per request (statusAt). */
  clock?: Clock
  /** Defaults to the list shipped in this build. */
  revoked?: RevocationList
}

/** Far above any real licence; keeps a hostile upload from costing more than a few string ops. */
export const MAX_TOKEN_LENGTH = 8192

/**
 * Verifies a compact JWS licence against a 32-byte Ed25519 public key given as hex.
 * Throws LicenseKeyError("key_invalid") only when `pubkeyHex` itself is not 64 hex characters.
 */
export async function verify(token: string, pubkeyHex: string, opts: VerifyOptions = {}): Promise<VerifyResult> {
  const invalid = (message: string): VerifyResult => ({ ok: false, error: "jwt_invalid", message })
  const publicKey = fromHex(pubkeyHex.trim())
  if (!publicKey)
    throw new LicenseKeyError("key_invalid", "the licence public key must be 64 hex characters (32 bytes)")

  if (typeof token !== "string") return invalid("token is not a string")
  token = token.trim()
  if (token.length > MAX_TOKEN_LENGTH) return invalid(`token is longer than ${MAX_TOKEN_LENGTH} characters`)
  const parts = token.split(".")
  if (parts.length !== 3) return invalid("token is not a JWS compact serialisation (header.payload.signature)")
  const [headerSeg, payloadSeg, signatureSeg] = parts
  // One token, one spelling: jose decodes non-canonical base64url (spare bits, padding) to the same bytes.
  const signature = b64urlDecode(signatureSeg)
  if (signature?.length !== 64) return invalid("signature is not 64 base64url-encoded bytes")
  if (!b64urlDecode(headerSeg) || !b64urlDecode(payloadSeg)) return invalid("header or payload is not base64url")
  const header = decodeJsonSegment(headerSeg)
  if (!header) return invalid("header is not base64url JSON")
  if (header.typ !== undefined && (typeof header.typ !== "string" || header.typ.toUpperCase() !== "JWT"))
    return invalid(`typ ${JSON.stringify(header.typ)} is not JWT`)
  // RFC 7515 §4.1.11: no critical extension at all (jose would honour crit ["b64"], a second spelling).
  if (header.crit !== undefined) return invalid("critical header extensions are not supported")

  if (publicKey.every((b) => b === 0))
    return invalid(
      "license pubkey not initialized: this build carries the all-zero placeholder and rejects every licence",
    )
  // jose: the algorithm pinned to EdDSA before the key is used (alg none, HS*, RS* stop here), an unknown
  // critical header refused (RFC 7515 §4.1.11), then the signature.
  let payloadBytes: Uint8Array
  try {
    const key = await importJWK(
      { kty: "OKP", crv: "Ed25519", x: Buffer.from(publicKey).toString("base64url") },
      "EdDSA",
    )
    payloadBytes = (await compactVerify(token, key, { algorithms: ["EdDSA"] })).payload
  } catch (e) {
    if (e instanceof joseErrors.JOSEAlgNotAllowed)
      return invalid(`algorithm ${JSON.stringify(header.alg)} is not accepted; only EdDSA`)
    if (e instanceof joseErrors.JOSENotSupported || (e as { code?: string }).code === "ERR_JWS_INVALID")
      return invalid(`header refused: ${(e as Error).message}`)
    return invalid("signature verification failed")
  }
  // RFC 8032 strict (zip215:false): canonical encodings only and no small-order public key or R.
  let strict = false
  try {
    strict = await ed.verifyAsync(signature, new TextEncoder().encode(`${headerSeg}.${payloadSeg}`), publicKey, {
      zip215: false,
    })
  } catch {
    strict = false
  }
  if (!strict) return invalid("signature verification failed")

  // From here on the payload is CELLULE.ai's own words: schema errors and revocation may be reported.
  const payload = decodeJsonSegment(Buffer.from(payloadBytes).toString("base64url"))
  if (!payload) return { ok: false, error: "license_malformed", message: "payload is not a JSON object" }
  const claims = parseClaims(payload)
  if (!claims.ok) return { ok: false, error: "license_malformed", message: claims.message }
  const license = claims.license

  const revocation = (opts.revoked ?? shippedRevocationList).clients.get(license.client_id)
  if (revocation)
    return {
      ok: false,
      error: "client_revoked",
      message: `client ${license.client_id} is revoked (${revocation.reason}, ${revocation.revoked_at})`,
      license,
      revocation,
    }
  return { ok: true, license, status: statusAt(license, (opts.clock ?? systemClock).now()) }
}

/** verify(), throwing LicenseRejected (status 400, the result's code) instead of returning a failure. */
export async function verifyOrThrow(token: string, pubkeyHex: string, opts: VerifyOptions = {}): Promise<License> {
  const result = await verify(token, pubkeyHex, opts)
  if (result.ok) return result.license
  throw new LicenseRejected(result.error, result.message)
}
