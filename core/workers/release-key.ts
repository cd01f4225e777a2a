// core/workers/release-key — the pool's Ed25519 release key: it signs the binaries it pushes to
// self-updating workers; workers learn the public half at enrolment (config.json `pool_key`) and
// refuse an upgrade whose signature does not verify. Kept apart from the federation identity so
// rotating one never touches the other. The private key never leaves <data dir>/keys.
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from "node:crypto"
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs"
import { join } from "node:path"

export interface ReleaseKey {
  privateKey: KeyObject
  /** Raw 32-byte public key, base64. */
  publicKey: string
}

// The 12-byte DER prefix of an Ed25519 SubjectPublicKeyInfo; the raw key follows it.
const SPKI_PREFIX = Buffer.from("302a300506032b6570032100", "hex")

const loaded = new Map<string, ReleaseKey>()

/** The pool's release key under <data dir>/keys, created on first use (memoised per data dir). */
export function releaseKeyFor(dataDir: string): ReleaseKey {
  let k = loaded.get(dataDir)
  if (!k) {
    k = loadOrCreateReleaseKey(dataDir)
    loaded.set(dataDir, k)
  }
  return k
}

export function loadOrCreateReleaseKey(dataDir: string): ReleaseKey {
  const dir = join(dataDir, "keys")
  const file = join(dir, "release.ed25519.pem")
  let privateKey: KeyObject
  if (existsSync(file)) privateKey = createPrivateKey(readFileSync(file, "utf8"))
  else {
    mkdirSync(dir, { recursive: true, mode: 0o700 })
    privateKey = generateKeyPairSync("ed25519").privateKey
    writeFileSync(`${file}.tmp`, privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600 })
    chmodSync(`${file}.tmp`, 0o600)
    renameSync(`${file}.tmp`, file)
  }
  const spki = createPublicKey(privateKey).export({ type: "spki", format: "der" })
  return { privateKey, publicKey: spki.subarray(SPKI_PREFIX.length).toString("base64") }
}

const message = (version: string, sha256: string) => Buffer.from(`cellule-release\n${version}\n${sha256}`, "utf8")

export function signRelease(key: ReleaseKey, version: string, sha256: string): string {
  return sign(null, message(version, sha256), key.privateKey).toString("base64")
}

export function verifyRelease(
  publicKeyB64: string,
  version: string,
  sha256: string,
  signatureB64: string | undefined,
): boolean {
  if (!signatureB64) return false
  try {
    const raw = Buffer.from(publicKeyB64, "base64")
    if (raw.length !== 32) return false
    const pub = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: "der", type: "spki" })
    return verify(null, message(version, sha256), pub, Buffer.from(signatureB64, "base64"))
  } catch {
    return false
  }
}
