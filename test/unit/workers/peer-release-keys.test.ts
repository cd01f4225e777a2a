// The worker-side acceptance rule for self-update offers after failover (issue 14.4): an offer signed
// by the release key its primary handed over in welcome for the peer it is connected to is accepted;
// one signed by an unknown key, by a key named for another peer, or unsigned is refused before any
// download. The keys survive a restart (release-keys.json next to peers.json).
import { expect, test } from "bun:test"
import { mkdtempSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import {
  PeerReleaseKeys,
  acceptedReleaseKeys,
  offerSignedByAny,
  parsePeerReleaseKeys,
} from "../../../core/workers/peer-release-keys.ts"
import { loadOrCreateReleaseKey, signRelease } from "../../../core/workers/release-key.ts"
import { UnsignedUpdateRefused, stageUpgrade } from "../../../core/workers/upgrade.ts"

const tmp = (p: string) => mkdtempSync(join(tmpdir(), p))
const poolA = loadOrCreateReleaseKey(tmp("rk-a-"))
const poolB = loadOrCreateReleaseKey(tmp("rk-b-"))
const stranger = loadOrCreateReleaseKey(tmp("rk-x-"))
const A = "https://pool-a.test:8443"
const B = "https://pool-b.test:8443"
const C = "https://pool-c.test:8443"
const sha256 = "cd".repeat(32)
const offerBy = (k?: typeof poolA) => ({
  version: "9.9.9",
  url: "/v1/install/bin/cellule-linux-x64",
  sha256,
  ...(k ? { signature: signRelease(k, "9.9.9", sha256) } : {}),
})

/** Stage with a fetch that records whether a download was attempted (it answers 404: stop there). */
async function stage(offer: ReturnType<typeof offerBy>, poolUrl: string, peerKeys: Record<string, string>) {
  let fetched = false
  const err = await stageUpgrade(offer, {
    poolUrl,
    token: "t",
    exePath: join(tmp("rk-exe-"), "cellule"),
    poolKey: poolA.publicKey,
    peerKeys,
    fetch: (async () => {
      fetched = true
      return new Response("no", { status: 404 })
    }) as unknown as typeof fetch,
  }).catch((e: Error) => e)
  return { fetched, message: (err as Error).message }
}

test("an offer signed by the peer key handed in welcome is accepted on that peer; an unknown key is refused", async () => {
  const dir = tmp("rk-data-")
  const keys = new PeerReleaseKeys(dir, A)
  keys.primaryJoined({ [B]: poolB.publicKey, "ftp://x": poolB.publicKey, [C]: "not-a-key" })
  expect(keys.all).toEqual({ [B]: poolB.publicKey })

  const accepted = await stage(offerBy(poolB), B, keys.all as Record<string, string>)
  expect(accepted.fetched).toBe(true)
  expect(accepted.message).toContain("pool answered 404")

  const unknown = await stage(offerBy(stranger), B, keys.all as Record<string, string>)
  expect(unknown.fetched).toBe(false)
  expect(unknown.message).toContain("not signed by this worker's pool key")

  // B's key does not vouch for offers received from another peer.
  const elsewhere = await stage(offerBy(poolB), C, keys.all as Record<string, string>)
  expect(elsewhere.fetched).toBe(false)

  // Unsigned stays refused, wherever it comes from.
  const unsigned = await stage(offerBy(), B, keys.all as Record<string, string>)
  expect(unsigned.fetched).toBe(false)

  // The enrolment's own pool key still works, on the primary and on a peer.
  expect((await stage(offerBy(poolA), A, {})).fetched).toBe(true)
})

test("the rule as a function, and persistence across a restart", () => {
  expect(acceptedReleaseKeys(B, poolA.publicKey, { [B]: poolB.publicKey })).toEqual([poolA.publicKey, poolB.publicKey])
  expect(acceptedReleaseKeys(C, poolA.publicKey, { [B]: poolB.publicKey })).toEqual([poolA.publicKey])
  expect(acceptedReleaseKeys(B, undefined, {})).toEqual([])
  expect(offerSignedByAny(offerBy(poolB), [poolA.publicKey])).toBe(false)
  expect(offerSignedByAny(offerBy(), [poolA.publicKey, poolB.publicKey])).toBe(false)
  expect(parsePeerReleaseKeys(["x"])).toEqual({})

  const dir = tmp("rk-persist-")
  new PeerReleaseKeys(dir, A).primaryJoined({ [B]: poolB.publicKey })
  expect(JSON.parse(readFileSync(join(dir, "release-keys.json"), "utf8")).keys).toEqual({ [B]: poolB.publicKey })
  expect(new PeerReleaseKeys(dir, A).all).toEqual({ [B]: poolB.publicKey })
  // Saved for another primary (re-enrolled elsewhere): not trusted.
  expect(new PeerReleaseKeys(dir, C).all).toEqual({})
  // A welcome without the field (older pool) keeps what was saved.
  const kept = new PeerReleaseKeys(dir, A)
  kept.primaryJoined(undefined)
  expect(kept.all).toEqual({ [B]: poolB.publicKey })
})

test("without any key an offer is refused as unsigned", async () => {
  const err = await stageUpgrade(offerBy(poolB), { poolUrl: B, token: "t", exePath: "/nonexistent/cellule" }).catch(
    (e) => e,
  )
  expect(err).toBeInstanceOf(UnsignedUpdateRefused)
})
