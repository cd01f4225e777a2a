import { afterAll, describe, expect, test } from "bun:test"
import { generateKeyPairSync } from "node:crypto"
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { ManualClock } from "../../../core/clock.ts"
import {
  buildClaims,
  generateKeyPair,
  PRIVATE_KEY_FILE,
  PUBLIC_KEY_FILE,
  publicKeyOf,
  readPrivateKey,
  TIER_DEFAULTS,
  toHex,
  writeKeyPair,
} from "../../../core/license/index.ts"

const now = Date.UTC(2026, 0, 1)
const dir = mkdtempSync(join(tmpdir(), "cellule-license-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe("buildClaims", () => {
  test("a tier's defaults fill the claims", () => {
    const c = buildClaims({ clientId: "cluster-example-001", tier: "cabinet" }, now)
    expect(c).toEqual({
      client_id: "cluster-example-001",
      tier: "cabinet",
      features: [...TIER_DEFAULTS.cabinet.features],
      limits: { ...TIER_DEFAULTS.cabinet.limits },
      iat: now / 1000,
      exp: now / 1000 + 365 * 86400,
      grace_days: TIER_DEFAULTS.cabinet.graceDays,
    })
  })

  test("features replace the tier's set; limits merge and null removes one", () => {
    const c = buildClaims(
      {
        clientId: "c-1",
        tier: "corporate",
        features: ["rag_documents"],
        limits: { max_pools: 3, max_users: null },
        durationDays: 90,
        graceDays: 0,
      },
      now,
    )
    expect(c.features).toEqual(["rag_documents"])
    expect(c.limits).toEqual({ max_pools: 3 })
    expect(c.exp - c.iat).toBe(90 * 86400)
    expect(c.grace_days).toBe(0)
  })

  test.each([
    ["an unknown tier", { clientId: "c-1", tier: "platinum" }, "tier_unknown"],
    ["a zero duration", { clientId: "c-1", tier: "cabinet", durationDays: 0 }, "duration_invalid"],
    ["a client id with spaces", { clientId: "evil corp", tier: "cabinet" }, "license_malformed"],
    ["a feature that is not a name", { clientId: "c-1", tier: "cabinet", features: ["Rag Docs"] }, "license_malformed"],
  ])("refuses %s", (_name, req, code) => {
    expect(() => buildClaims(req, now)).toThrow(expect.objectContaining({ code }))
  })
})

describe("key files", () => {
  test("writeKeyPair writes a 0600 raw private key and the public key hex, and refuses to overwrite", async () => {
    const pair = await generateKeyPair()
    const out = join(dir, "ceremony")
    const { privateKeyPath, publicKeyPath } = await writeKeyPair(out, pair)
    expect(privateKeyPath).toBe(join(out, PRIVATE_KEY_FILE))
    expect(statSync(privateKeyPath).mode & 0o777).toBe(0o600)
    expect(await Bun.file(publicKeyPath).text()).toBe(`${toHex(pair.publicKey)}\n`)
    expect(publicKeyPath).toBe(join(out, PUBLIC_KEY_FILE))
    expect(await readPrivateKey(privateKeyPath)).toEqual(pair.privateKey)
    await expect(writeKeyPair(out, await generateKeyPair())).rejects.toMatchObject({ code: "key_exists" })
  })

  test("readPrivateKey accepts hex and an openssl-style PKCS#8 PEM", async () => {
    const { privateKey, publicKey } = generateKeyPairSync("ed25519")
    const pemPath = join(dir, "key.pem")
    writeFileSync(pemPath, privateKey.export({ format: "pem", type: "pkcs8" }))
    const seed = await readPrivateKey(pemPath)
    const expectedPub = Buffer.from(publicKey.export({ format: "jwk" }).x!, "base64url")
    expect(Buffer.from(await publicKeyOf(seed))).toEqual(expectedPub)

    const hexPath = join(dir, "key.hex")
    writeFileSync(hexPath, `${toHex(seed)}\n`)
    expect(await readPrivateKey(hexPath)).toEqual(seed)
  })

  test.each([
    ["a missing file", "nope", "key_unreadable"],
    ["a file of the wrong size", "short", "key_invalid"],
  ])("readPrivateKey refuses %s", async (_name, name, code) => {
    if (name === "short") writeFileSync(join(dir, name), "0123")
    await expect(readPrivateKey(join(dir, name))).rejects.toMatchObject({ code })
  })
})

test("ManualClock drives iat", () => {
  const clock = new ManualClock(now)
  clock.advance(1500)
  expect(buildClaims({ clientId: "c-1", tier: "trial" }, clock.now()).iat).toBe(now / 1000 + 1)
})
