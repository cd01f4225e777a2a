// core/workers/peer-release-keys — the worker's side of replicated release keys (issue 14.4): the
// bonded peers' release public keys its primary pool handed over in welcome.peer_release_keys (peer
// URL → key), kept in <data dir>/release-keys.json next to peers.json so a worker restarted while its
// primary is down still verifies a peer's offers. Only the primary's welcome updates them: a peer
// cannot vouch for itself. The rule: an offer is accepted when signed by the enrolment's pool_key, or
// by the key its primary named for the peer the worker is connected to right now.
import { readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { logger } from "../log.ts"
import type { UpgradeOffer } from "./protocol.ts"
import { verifyRelease } from "./release-key.ts"

const log = logger("workers.release-keys")
const FILE = "release-keys.json"
const isKey = (k: unknown): k is string => typeof k === "string" && /^[A-Za-z0-9+/]{43}=$/.test(k)

/** The keys from a welcome, filtered to http(s) URLs and raw 32-byte base64 keys. */
export function parsePeerReleaseKeys(fromWelcome: unknown): Record<string, string> {
  const out: Record<string, string> = {}
  if (!fromWelcome || typeof fromWelcome !== "object" || Array.isArray(fromWelcome)) return out
  for (const [url, key] of Object.entries(fromWelcome)) if (/^https?:\/\//.test(url) && isKey(key)) out[url] = key
  return out
}

export class PeerReleaseKeys {
  private keys: Record<string, string> = {}

  constructor(
    private readonly dataDir: string,
    private readonly primary: string,
  ) {
    try {
      const saved = JSON.parse(readFileSync(join(dataDir, FILE), "utf8")) as { primary: string; keys: unknown }
      if (saved.primary === primary) this.keys = parsePeerReleaseKeys(saved.keys)
    } catch {
      // none saved yet
    }
  }

  /** The primary's welcome: replace the keys (absent field: an older pool, keep what we had). */
  primaryJoined(fromWelcome: unknown) {
    if (fromWelcome === undefined) return
    this.keys = parsePeerReleaseKeys(fromWelcome)
    try {
      writeFileSync(join(this.dataDir, FILE), JSON.stringify({ primary: this.primary, keys: this.keys }))
    } catch (e) {
      log.warn(`could not save the peers' release keys: ${(e as Error).message}`)
    }
  }

  get all(): Readonly<Record<string, string>> {
    return this.keys
  }
}

/**
 * The keys an offer received from `connectedUrl` may be signed by: the enrolment's pool key, and the
 * key the primary named for that peer. A key named for another peer does not count here.
 */
export function acceptedReleaseKeys(
  connectedUrl: string,
  poolKey: string | undefined,
  peerKeys: Readonly<Record<string, string>> = {},
): string[] {
  const keys = poolKey ? [poolKey] : []
  const peer = Object.hasOwn(peerKeys, connectedUrl) ? peerKeys[connectedUrl] : undefined
  if (peer && !keys.includes(peer)) keys.push(peer)
  return keys
}

/** Whether `offer` carries a signature by one of `keys` (no signature: never). */
export function offerSignedByAny(offer: UpgradeOffer, keys: readonly string[]): boolean {
  return keys.some((k) => verifyRelease(k, offer.version, offer.sha256, offer.signature))
}
