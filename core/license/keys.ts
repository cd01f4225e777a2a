// core/license/keys — the signing keypair: generation (the ceremony), key files, hex. The private
// key is only ever read on the issuing workstation; nothing here logs or prints key material.
import { chmod, mkdir, writeFile } from "node:fs/promises"
import { join } from "node:path"
import * as ed from "@noble/ed25519"
import { LicenseKeyError } from "./errors.ts"

export const PRIVATE_KEY_FILE = "cellule_license_privkey.ed25519"
export const PUBLIC_KEY_FILE = "cellule_license_pubkey.hex"

export interface KeyPair {
  /** The 32-byte Ed25519 seed (RFC 8032 "private key"). */
  readonly privateKey: Uint8Array
  readonly publicKey: Uint8Array
}

export async function generateKeyPair(): Promise<KeyPair> {
  const { secretKey, publicKey } = await ed.keygenAsync()
  return { privateKey: secretKey, publicKey }
}

export function publicKeyOf(privateKey: Uint8Array): Promise<Uint8Array> {
  return ed.getPublicKeyAsync(privateKey)
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("hex")
}

/** Strict hex of exactly `length` bytes (either case), or null. */
export function fromHex(hex: string, length = 32): Uint8Array | null {
  return new RegExp(`^[0-9a-fA-F]{${length * 2}}$`).test(hex) ? new Uint8Array(Buffer.from(hex, "hex")) : null
}

/**
 * Writes DIR/cellule_license_privkey.ed25519 (raw 32 bytes, mode 0600) and DIR/cellule_license_pubkey.hex.
 * Refuses to overwrite either file: replacing a signing key by accident cannot be undone.
 */
export async function writeKeyPair(
  dir: string,
  pair: KeyPair,
): Promise<{ privateKeyPath: string; publicKeyPath: string }> {
  const privateKeyPath = join(dir, PRIVATE_KEY_FILE)
  const publicKeyPath = join(dir, PUBLIC_KEY_FILE)
  await mkdir(dir, { recursive: true, mode: 0o700 })
  for (const path of [privateKeyPath, publicKeyPath])
    if (await Bun.file(path).exists())
      throw new LicenseKeyError(
        "key_exists",
        `${path} already exists; refusing to overwrite a key`,
        "choose an empty --out directory",
      )
  // "wx" fails if the file appeared meanwhile; chmod again in case the file system ignored the mode.
  await writeFile(privateKeyPath, pair.privateKey, { mode: 0o600, flag: "wx" })
  await chmod(privateKeyPath, 0o600)
  await writeFile(publicKeyPath, `${toHex(pair.publicKey)}\n`, { mode: 0o644, flag: "wx" })
  return { privateKeyPath, publicKeyPath }
}

// The fixed DER prefix of a PKCS#8 Ed25519 private key (RFC 8410), followed by the 32-byte seed.
const PKCS8_ED25519_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex")

/** Reads a private key file: raw 32 bytes (what keygen writes), 64 hex characters, or PKCS#8 PEM (openssl). */
export async function readPrivateKey(path: string): Promise<Uint8Array> {
  let bytes: Uint8Array
  try {
    bytes = await Bun.file(path).bytes()
  } catch (cause) {
    throw new LicenseKeyError("key_unreadable", `cannot read private key ${path}`, "check --privkey", { cause })
  }
  if (bytes.length === 32) return bytes
  const text = new TextDecoder().decode(bytes).trim()
  const hex = fromHex(text)
  if (hex) return hex
  const pem = /^-----BEGIN PRIVATE KEY-----([A-Za-z0-9+/=\s]+)-----END PRIVATE KEY-----$/.exec(text)
  if (pem) {
    const der = Buffer.from(pem[1].replace(/\s+/g, ""), "base64")
    if (der.length === 48 && der.subarray(0, 16).equals(PKCS8_ED25519_PREFIX)) return new Uint8Array(der.subarray(16))
  }
  throw new LicenseKeyError(
    "key_invalid",
    `${path} is not an Ed25519 private key`,
    "expected 32 raw bytes, 64 hex characters or a PKCS#8 PEM Ed25519 key",
  )
}
