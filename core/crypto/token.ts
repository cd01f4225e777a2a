// core/crypto/token — secrets we hand out (join tokens, API keys) are stored as SHA-256 hashes
// and compared in constant time. High-entropy tokens need no slow hash; passwords use Argon2id.
import { createHash, randomBytes, timingSafeEqual } from "node:crypto"

export function hashToken(token: string): Buffer {
  return createHash("sha256").update(token, "utf8").digest()
}

/** Constant-time check of `presented` against a stored SHA-256 hash. */
export function tokenMatches(presented: string | null | undefined, storedHash: Buffer): boolean {
  // Hashing first makes both sides 32 bytes, so length never leaks through timing either.
  const h = hashToken(presented ?? "")
  return timingSafeEqual(h, storedHash) && !!presented
}

export function newToken(prefix: string, bytes = 24): string {
  return `${prefix}${randomBytes(bytes).toString("base64url")}`
}
