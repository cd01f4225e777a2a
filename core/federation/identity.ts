// core/federation/identity — this pool's Ed25519 keypair and the atom_id derived from it.
// Never generates a new key when the database says one existed: that would silently break every bond.
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  verify,
  type KeyObject,
} from "node:crypto"
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import type { Sql } from "../db/client.ts"
import { CelluleError } from "../errors.ts"
import { logger } from "../log.ts"

const log = logger("federation")

export const PRIVATE_KEY_FILE = "federation_self.privkey"
export const PUBLIC_KEY_FILE = "federation_self.pubkey"

export interface Identity {
  atomId: string
  /** Raw 32-byte public key, base64url. */
  pubkey: string
  sign(data: Uint8Array): string
}

/** atom_id = "atom_" + the first 32 hex digits of SHA-256(raw public key). */
export function atomIdOf(pubkey: string): string {
  return "atom_" + createHash("sha256").update(Buffer.from(pubkey, "base64url")).digest("hex").slice(0, 32)
}

export function publicKeyObject(pubkey: string): KeyObject {
  const raw = Buffer.from(pubkey, "base64url")
  if (raw.length !== 32) throw new CelluleError("pubkey_invalid", "an Ed25519 public key is 32 bytes", 400)
  return createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: pubkey }, format: "jwk" })
}

const keyCache = new Map<string, KeyObject>()
/** Verify a base64url signature; false on any malformed input. */
export function verifySig(pubkey: string, data: Uint8Array, sig: unknown): boolean {
  if (typeof sig !== "string" || !/^[A-Za-z0-9_-]{86}$/.test(sig)) return false
  try {
    let k = keyCache.get(pubkey)
    if (!k) {
      k = publicKeyObject(pubkey)
      keyCache.set(pubkey, k)
    }
    return verify(null, data, k, Buffer.from(sig, "base64url"))
  } catch {
    return false
  }
}

export function identityFromPrivateKey(priv: KeyObject): Identity {
  const pubkey = createPublicKey(priv).export({ format: "jwk" }).x as string
  return {
    atomId: atomIdOf(pubkey),
    pubkey,
    sign: (data) => sign(null, data, priv).toString("base64url"),
  }
}

/** A fresh in-memory identity (tests, benches). */
export function generateIdentity(): Identity {
  return identityFromPrivateKey(generateKeyPairSync("ed25519").privateKey)
}

export class FederationKeyMissing extends CelluleError {
  constructor(keyDir: string, atomId: string) {
    super(
      "federation_key_missing",
      `this pool's database says it is federation atom ${atomId}, but ${join(keyDir, PRIVATE_KEY_FILE)} is missing; refusing to generate a new identity silently`,
      500,
      `restore the key dir from backup (CELLULE_FED_KEY_DIR, must be a persistent volume), or, to start over as a new atom, ` +
        `boot once with CELLULE_FED_REKEY=true and re-bond every peer (docs/federation.md, "Re-key")`,
    )
  }
}

/**
 * Load the key from keyDir, or create it (0600) on first boot. The database remembers the atom_id:
 * a missing key file or a different key is refused with the recovery procedure.
 */
export async function loadIdentity(sql: Sql, keyDir: string, opts: { rekey?: boolean } = {}): Promise<Identity> {
  const privPath = join(keyDir, PRIVATE_KEY_FILE)
  let [row] = await sql<{ atom_id: string; pubkey: string }[]>`select atom_id, pubkey from federation_self where id = 1`
  if (opts.rekey) {
    if (row)
      log.warn(
        `CELLULE_FED_REKEY: abandoning atom ${row.atom_id}; every peer must revoke it and bond the new atom (docs/federation.md)`,
      )
    if (existsSync(privPath)) renameSync(privPath, `${privPath}.replaced-${Date.now()}`)
    await sql`delete from federation_self`
    row = undefined as unknown as typeof row
  }
  let id: Identity
  if (existsSync(privPath)) {
    id = identityFromPrivateKey(createPrivateKey(readFileSync(privPath)))
  } else {
    if (row) throw new FederationKeyMissing(keyDir, row.atom_id)
    mkdirSync(keyDir, { recursive: true, mode: 0o700 })
    const { privateKey } = generateKeyPairSync("ed25519")
    writeFileSync(privPath, privateKey.export({ format: "pem", type: "pkcs8" }), { mode: 0o600 })
    chmodSync(privPath, 0o600)
    id = identityFromPrivateKey(privateKey)
    writeFileSync(join(keyDir, PUBLIC_KEY_FILE), id.pubkey + "\n", { mode: 0o644 })
    log.info(`generated federation key ${privPath} (atom ${id.atomId})`)
  }
  if (row && row.atom_id !== id.atomId) {
    throw new CelluleError(
      "federation_key_mismatch",
      `${privPath} belongs to atom ${id.atomId} but this pool's database says it is atom ${row.atom_id}`,
      500,
      'point CELLULE_FED_KEY_DIR at this pool\'s own key dir; to start over as a new atom deliberately, boot once with CELLULE_FED_REKEY=true (docs/federation.md, "Re-key")',
    )
  }
  if (!row) await sql`insert into federation_self (id, atom_id, pubkey) values (1, ${id.atomId}, ${id.pubkey})`
  return id
}
