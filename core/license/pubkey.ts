// core/license/pubkey — which public key this build trusts. A release bakes it in at build time
// (bun build --define CELLULE_LICENSE_PUBKEY='"<hex>"'); a compiled binary never takes it from the
// environment, or anyone could install their own key and sign their own licences.
import { isCompiled } from "../compiled.ts"
import { logger } from "../log.ts"

/** The 32-byte zero placeholder: verify() rejects every licence with it (fail-safe before the ceremony). */
export const PLACEHOLDER_PUBKEY = "0".repeat(64)

declare const CELLULE_LICENSE_PUBKEY: string | undefined

export type PubkeySource = "build" | "env" | "placeholder"

/**
 * Picks the key: the build define, else (running from source only: tests, dev) the
 * CELLULE_LICENSE_PUBKEY environment variable, else the placeholder. A malformed value also
 * falls back to the placeholder, so a bad build refuses licences but still boots.
 */
export function resolvePubkey(input: { baked?: string; env?: string; compiled: boolean }): {
  hex: string
  source: PubkeySource
  problem?: string
} {
  const candidate =
    input.baked !== undefined
      ? { value: input.baked, source: "build" as const }
      : !input.compiled && input.env
        ? { value: input.env, source: "env" as const }
        : undefined
  if (!candidate) return { hex: PLACEHOLDER_PUBKEY, source: "placeholder" }
  const hex = candidate.value.trim().toLowerCase()
  if (!/^[0-9a-f]{64}$/.test(hex))
    return {
      hex: PLACEHOLDER_PUBKEY,
      source: "placeholder",
      problem: `CELLULE_LICENSE_PUBKEY (${candidate.source}) is not 64 hex characters`,
    }
  return { hex, source: hex === PLACEHOLDER_PUBKEY ? "placeholder" : candidate.source }
}

let resolved: { hex: string; source: PubkeySource } | undefined

/** The licence public key of this process, as lowercase hex. */
export function licensePubkey(): { hex: string; source: PubkeySource } {
  if (!resolved) {
    const r = resolvePubkey({
      baked: typeof CELLULE_LICENSE_PUBKEY === "string" ? CELLULE_LICENSE_PUBKEY : undefined,
      // The one read of the environment outside core/config: a build-time constant in disguise.
      env: process.env.CELLULE_LICENSE_PUBKEY,
      compiled: isCompiled,
    })
    if (r.problem) logger("license").error(`${r.problem}; every licence will be rejected`)
    resolved = { hex: r.hex, source: r.source }
  }
  return resolved
}

export function isPlaceholder(pubkeyHex: string): boolean {
  return pubkeyHex.trim() === PLACEHOLDER_PUBKEY
}
