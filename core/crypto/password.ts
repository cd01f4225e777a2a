// core/crypto/password — Argon2id (hash-wasm, pure WASM so it works in the compiled binary).
// Parameters follow OWASP's Argon2id baseline: 19 MiB memory, 2 iterations, 1 lane.
import { argon2id, argon2Verify } from "hash-wasm"
import { randomBytes } from "node:crypto"

export const ARGON2_PARAMS = { memorySize: 19456, iterations: 2, parallelism: 1, hashLength: 32 } as const

export async function hashPassword(password: string): Promise<string> {
  return argon2id({ password, salt: randomBytes(16), ...ARGON2_PARAMS, outputType: "encoded" })
}

export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  if (!encoded.startsWith("$argon2")) return false
  try {
    return await argon2Verify({ password, hash: encoded })
  } catch {
    return false
  }
}

export const isArgon2Hash = (s: string) => s.startsWith("$argon2")
