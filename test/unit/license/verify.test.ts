import { describe, expect, test } from "bun:test"
import { createHmac, generateKeyPairSync, type KeyObject, sign as nodeSign } from "node:crypto"
import * as ed from "@noble/ed25519"
import { compactVerify, importJWK } from "jose"
import { ManualClock } from "../../../core/clock.ts"
import {
  generateKeyPair,
  issueLicense,
  LicenseKeyError,
  LicenseRejected,
  parseRevocationList,
  PLACEHOLDER_PUBKEY,
  shippedRevocationList,
  verify,
  verifyOrThrow,
} from "../../../core/license/index.ts"
import { resolvePubkey } from "../../../core/license/pubkey.ts"

// The signer is Node's own Ed25519 (OpenSSL), not the code under test: an independent implementation.
const b64 = (v: unknown) => Buffer.from(typeof v === "string" ? v : JSON.stringify(v)).toString("base64url")
const edKey = () => {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519")
  return { privateKey, hex: Buffer.from(publicKey.export({ format: "jwk" }).x!, "base64url").toString("hex") }
}
const key = edKey()
const otherKey = edKey()

const clock = new ManualClock(Date.UTC(2026, 0, 1))
const nowS = Math.floor(clock.now() / 1000)
const claims = (over: Record<string, unknown> = {}) => ({
  client_id: "evil-corp-001",
  tier: "cabinet",
  features: ["rag_documents", "balancer"],
  limits: { max_pools: 3 },
  iat: nowS,
  exp: nowS + 365 * 86400,
  grace_days: 30,
  ...over,
})
const withSignature = (input: string, sig: Uint8Array | Buffer) => `${input}.${Buffer.from(sig).toString("base64url")}`
/** A compact JWS signed with Node's crypto over `b64(header).b64(payload)`. */
const edToken = (
  payload: unknown,
  privateKey: KeyObject = key.privateKey,
  header: unknown = { alg: "EdDSA", typ: "JWT" },
) => {
  const input = `${b64(header)}.${b64(payload)}`
  return withSignature(input, nodeSign(null, Buffer.from(input), privateKey))
}
const genuine = edToken(claims())
const [gHeader, gPayload, gSig] = genuine.split(".")

// The forged client is on the list: a forgery must still say jwt_invalid, never client_revoked.
const revoked = parseRevocationList({
  _schema_version: 1,
  revoked: { "evil-corp-001": { reason: "security_incident", revoked_at: "2026-03-15" } },
})
const opts = { clock, revoked }

const hs256 = (secret: Uint8Array | string) => {
  const input = `${b64({ alg: "HS256", typ: "JWT" })}.${b64(claims())}`
  return withSignature(input, createHmac("sha256", secret).update(input).digest())
}
const rs256 = () => {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 })
  const input = `${b64({ alg: "RS256", typ: "JWT" })}.${b64(claims())}`
  return withSignature(input, nodeSign("sha256", Buffer.from(input), privateKey))
}
const malleated = () => {
  // S + L is the same signature to a lax verifier; RFC 8032 requires S < L.
  const sig = Buffer.from(gSig, "base64url")
  let s = 0n
  for (let i = 63; i >= 32; i--) s = (s << 8n) | BigInt(sig[i])
  s += ed.Point.CURVE().n
  for (let i = 32; i < 64; i++) (sig[i] = Number(s & 0xffn)), (s >>= 8n)
  return `${gHeader}.${gPayload}.${sig.toString("base64url")}`
}
const nonCanonicalSig = () => {
  // 64 bytes leave 4 unused bits in the last base64url character; setting one decodes to the same bytes.
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
  const last = alphabet.indexOf(gSig.at(-1)!)
  return `${gHeader}.${gPayload}.${gSig.slice(0, -1)}${alphabet[last | 1]}`
}

describe("forgeries are jwt_invalid", () => {
  test.each([
    ["alg none, no signature", `${b64({ alg: "none", typ: "JWT" })}.${b64(claims())}.`],
    ["alg none, genuine signature copied", `${b64({ alg: "none", typ: "JWT" })}.${gPayload}.${gSig}`],
    ["HS256 keyed with the public key bytes (key confusion)", hs256(Buffer.from(key.hex, "hex"))],
    ["HS256 keyed with the public key hex", hs256(key.hex)],
    ["RS256", rs256()],
    ["alg spelled eddsa", edToken(claims(), key.privateKey, { alg: "eddsa", typ: "JWT" })],
    ["alg Ed25519 (not the pinned name)", edToken(claims(), key.privateKey, { alg: "Ed25519", typ: "JWT" })],
    ["alg missing", edToken(claims(), key.privateKey, { typ: "JWT" })],
    ["unknown critical header", edToken(claims(), key.privateKey, { alg: "EdDSA", typ: "JWT", crit: ["exp"], exp: 1 })],
    ["typ not JWT", edToken(claims(), key.privateKey, { alg: "EdDSA", typ: "secevent+jwt" })],
    ["tampered payload", `${gHeader}.${b64(claims({ tier: "corporate" }))}.${gSig}`],
    ["tampered payload, revoked client renamed", `${gHeader}.${b64(claims({ client_id: "innocent-001" }))}.${gSig}`],
    ["tampered header", `${b64({ alg: "EdDSA", typ: "JWT", kid: "x" })}.${gPayload}.${gSig}`],
    ["signed by another key", edToken(claims(), otherKey.privateKey)],
    ["signature S + L (malleated)", malleated()],
    ["non-canonical base64url signature", nonCanonicalSig()],
    ["truncated signature", genuine.slice(0, -4)],
    ["signature segment dropped", `${gHeader}.${gPayload}`],
    ["four segments", `${genuine}.${gSig}`],
    ["empty string", ""],
    ["garbage", "not a licence at all"],
    ["three empty segments", ".."],
    ["non-base64url characters", `${gHeader}.${gPayload}.${gSig.slice(0, -2)}+/`],
    ["header not JSON", `${b64("EdDSA")}x.${gPayload}.${gSig}`],
    ["header a JSON array", `${b64(["EdDSA"])}.${gPayload}.${gSig}`],
    ["JWS JSON serialisation", JSON.stringify({ protected: gHeader, payload: gPayload, signature: gSig })],
    ["oversized", `${gHeader}.${"A".repeat(9000)}.${gSig}`],
  ])("%s", async (_name, token) => {
    const result = await verify(token, key.hex, opts)
    expect(result.error).toBe("jwt_invalid")
  })
})

describe("payload schema, checked only once the signature holds", () => {
  const without = (name: string) => {
    const c: Record<string, unknown> = claims()
    delete c[name]
    return c
  }
  test.each([
    ["client_id missing", without("client_id")],
    ["tier missing", without("tier")],
    ["features missing", without("features")],
    ["limits missing", without("limits")],
    ["iat missing", without("iat")],
    ["exp missing", without("exp")],
    ["exp a string", claims({ exp: "2027-01-01" })],
    ["exp fractional", claims({ exp: nowS + 0.5 })],
    ["exp not after iat", claims({ exp: nowS })],
    ["client_id with a slash", claims({ client_id: "../etc" })],
    ["features not a list", claims({ features: "rag_documents" })],
    ["feature not a name", claims({ features: [42] })],
    ["limit negative", claims({ limits: { max_pools: -1 } })],
    ["limit fractional", claims({ limits: { max_pools: 2.5 } })],
    ["limits a list", claims({ limits: [3] })],
    ["grace_days negative", claims({ grace_days: -1 })],
    ["grace_days over a year", claims({ grace_days: 366 })],
    ["payload a JSON array", [claims()]],
  ])("%s is license_malformed", async (_name, payload) => {
    const result = await verify(edToken(payload), key.hex, { clock })
    expect(result.error).toBe("license_malformed")
  })

  test("a payload that is not JSON is license_malformed", async () => {
    const input = `${b64({ alg: "EdDSA", typ: "JWT" })}.${b64("not json")}`
    const token = withSignature(input, nodeSign(null, Buffer.from(input), key.privateKey))
    expect((await verify(token, key.hex, { clock })).error).toBe("license_malformed")
  })

  test("extra claims are accepted and dropped; a missing grace_days means none", async () => {
    const { grace_days: _, ...rest } = claims({
      client_id: "cluster-example-001",
      iss: "someone",
      jti: "1",
      extra: { a: 1 },
    })
    const result = await verify(edToken(rest), key.hex, { clock })
    if (!result.ok) throw new Error(result.message)
    expect(result.license).toEqual({
      client_id: "cluster-example-001",
      tier: "cabinet",
      features: ["rag_documents", "balancer"],
      limits: { max_pools: 3 },
      iat: nowS,
      exp: nowS + 365 * 86400,
      grace_days: 0,
    })
  })
})

describe("genuine tokens", () => {
  test("a token signed by an independent implementation (Node crypto) verifies", async () => {
    const result = await verify(edToken(claims({ client_id: "cluster-example-001" })), key.hex, opts)
    expect(result.ok).toBe(true)
    expect(result.ok && result.status.status).toBe("active")
    expect(result.ok && result.status.days_remaining).toBe(365)
  })

  test("a token from issueLicense verifies with Node crypto too", async () => {
    const { privateKey, publicKey } = await generateKeyPair()
    const { token } = await issueLicense({ clientId: "cluster-example-001", tier: "cabinet" }, privateKey, { clock })
    const [h, p, s] = token.split(".")
    const { createPublicKey, verify: nodeVerify } = await import("node:crypto")
    const pub = createPublicKey({
      key: { kty: "OKP", crv: "Ed25519", x: Buffer.from(publicKey).toString("base64url") },
      format: "jwk",
    })
    expect(nodeVerify(null, Buffer.from(`${h}.${p}`), pub, Buffer.from(s, "base64url"))).toBe(true)
    expect(JSON.parse(Buffer.from(h, "base64url").toString())).toEqual({ alg: "EdDSA", typ: "JWT" })
    expect((await verify(token, Buffer.from(publicKey).toString("hex"), { clock })).ok).toBe(true)
  })

  test("the example token in docs/licensing.md (RFC 8032 test key 1) verifies and is reproduced byte for byte", async () => {
    const example =
      "eyJhbGciOiJFZERTQSIsInR5cCI6IkpXVCJ9.eyJjbGllbnRfaWQiOiJjbHVzdGVyLWV4YW1wbGUtMDAxIiwidGllciI6ImNhYmluZXQiLCJmZWF0dXJlcyI6WyJyYWdfZG9jdW1lbnRzIiwiYmFsYW5jZXIiLCJzbWFydF9yb3V0aW5nIl0sImxpbWl0cyI6eyJtYXhfcG9vbHMiOjMsIm1heF91c2VycyI6NTB9LCJpYXQiOjE3NjcyMjU2MDAsImV4cCI6MTc5ODc2MTYwMCwiZ3JhY2VfZGF5cyI6MzB9.FHAIWRcf14qSsXjV8hOUSltAy16IZ3Ln1jK_Ij8PQQ-gKK9LnDfeT9qirEuMBHnIFkTZaHzkrY-oe_zIENvyBQ"
    const seed = Buffer.from("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60", "hex")
    const result = await verify(example, "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", { clock })
    expect(result.ok).toBe(true)
    const { token } = await issueLicense({ clientId: "cluster-example-001", tier: "cabinet" }, new Uint8Array(seed), {
      clock,
    })
    expect(token).toBe(example)
  })

  test("surrounding whitespace (a .jwt file's newline) is ignored", async () => {
    expect((await verify(`${edToken(claims({ client_id: "ok-001" }))}\n`, key.hex, opts)).ok).toBe(true)
  })

  test("uppercase hex public keys are accepted", async () => {
    expect((await verify(edToken(claims({ client_id: "ok-001" })), key.hex.toUpperCase(), opts)).ok).toBe(true)
  })
})

describe("revocation", () => {
  test("a genuine token for a revoked client is client_revoked, with its licence", async () => {
    const result = await verify(genuine, key.hex, opts)
    expect(result.error).toBe("client_revoked")
    expect(result.error === "client_revoked" && result.license.client_id).toBe("evil-corp-001")
  })

  test("a forged token naming a revoked client is jwt_invalid, never client_revoked", async () => {
    const forged = edToken(claims(), otherKey.privateKey)
    expect((await verify(forged, key.hex, opts)).error).toBe("jwt_invalid")
  })

  test("the list shipped in the binary parses, at schema version 1", () => {
    expect(shippedRevocationList.schemaVersion).toBe(1)
  })

  test.each([
    ["another schema version", { _schema_version: 2, revoked: {} }],
    ["no schema version", { revoked: {} }],
    ["revoked as a list", { _schema_version: 1, revoked: ["evil-corp-001"] }],
    ["an entry without a reason", { _schema_version: 1, revoked: { "evil-corp-001": { revoked_at: "2026-03-15" } } }],
  ])("a revocation list with %s is refused", (_name, json) => {
    expect(() => parseRevocationList(json)).toThrow(expect.objectContaining({ code: "revocation_list_invalid" }))
  })

  test("verifyOrThrow raises LicenseRejected with the code", async () => {
    await expect(verifyOrThrow(genuine, key.hex, opts)).rejects.toBeInstanceOf(LicenseRejected)
    await expect(verifyOrThrow(genuine, key.hex, opts)).rejects.toMatchObject({ code: "client_revoked", status: 400 })
  })
})

describe("the all-zero placeholder key", () => {
  test("rejects a genuine token", async () => {
    expect((await verify(edToken(claims({ client_id: "ok-001" })), PLACEHOLDER_PUBKEY, opts)).error).toBe("jwt_invalid")
  })

  test("rejects a signature crafted for it, which a lax (ZIP-215) verifier would accept", async () => {
    // The zero encoding is a point of order 4: with R = sB and S = s, cofactored verification holds for any message.
    const s = 0x1234567890abcdefn
    const input = `${b64({ alg: "EdDSA", typ: "JWT" })}.${b64(claims({ client_id: "ok-001" }))}`
    const sig = new Uint8Array(64)
    sig.set(ed.Point.BASE.multiply(s).toBytes(), 0)
    sig.set(Buffer.from(s.toString(16).padStart(64, "0"), "hex").reverse(), 32)
    const zero = new Uint8Array(32)
    expect(await ed.verifyAsync(sig, new TextEncoder().encode(input), zero, { zip215: true })).toBe(true)
    expect((await verify(withSignature(input, sig), PLACEHOLDER_PUBKEY, opts)).error).toBe("jwt_invalid")
    // The same trick against another small-order key (the identity point) fails on the signature check.
    const identity = `01${"00".repeat(31)}`
    expect((await verify(withSignature(input, sig), identity, opts)).error).toBe("jwt_invalid")
  })

  test("jose alone accepts that identity-key forgery: the strict RFC 8032 check is what refuses it", async () => {
    const input = `${b64({ alg: "EdDSA", typ: "JWT" })}.${b64(claims({ client_id: "ok-001" }))}`
    const sig = new Uint8Array(64)
    sig[0] = 1 // R = the identity point, S = 0: [S]B = R + [k]A holds for A = identity, whatever the message
    const identity = new Uint8Array(32)
    identity[0] = 1
    const key = await importJWK({ kty: "OKP", crv: "Ed25519", x: Buffer.from(identity).toString("base64url") }, "EdDSA")
    const viaJose = await compactVerify(withSignature(input, sig), key, { algorithms: ["EdDSA"] }).then(
      () => "accepted",
      () => "refused",
    )
    expect(viaJose).toBe("accepted")
    expect((await verify(withSignature(input, sig), Buffer.from(identity).toString("hex"), opts)).error).toBe(
      "jwt_invalid",
    )
  })

  test("a public key that is not 64 hex characters is a key error, not a verdict on the token", async () => {
    await expect(verify(genuine, "abcd", opts)).rejects.toBeInstanceOf(LicenseKeyError)
  })
})

describe("which key the build trusts", () => {
  const real = "ab".repeat(32)
  test.each([
    [
      "the build define wins over the environment",
      { baked: real, env: "cd".repeat(32), compiled: true },
      real,
      "build",
    ],
    ["the environment serves tests and dev", { env: real, compiled: false }, real, "env"],
    ["a compiled binary ignores the environment", { env: real, compiled: true }, PLACEHOLDER_PUBKEY, "placeholder"],
    ["nothing set gives the placeholder", { compiled: false }, PLACEHOLDER_PUBKEY, "placeholder"],
    [
      "a malformed define falls back to the placeholder",
      { baked: "xyz", compiled: true },
      PLACEHOLDER_PUBKEY,
      "placeholder",
    ],
    [
      "an all-zero define is the placeholder",
      { baked: PLACEHOLDER_PUBKEY, compiled: true },
      PLACEHOLDER_PUBKEY,
      "placeholder",
    ],
  ])("%s", (_name, input, hex, source) => {
    expect(resolvePubkey(input)).toMatchObject({ hex, source })
  })
})
