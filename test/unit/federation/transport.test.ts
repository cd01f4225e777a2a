// The replay window of signed pool-to-pool requests and the backoff of a peer that stopped answering,
// without processes: a verified request's nonce is refused the second time, forgotten once its
// timestamp has left the window, and the window is bounded; backoff doubles with jitter up to its cap.
import { describe, expect, test } from "bun:test"
import { generateIdentity } from "../../../core/federation/identity.ts"
import { PeerPipeline } from "../../../core/federation/pipeline.ts"
import {
  NonceWindow,
  REQUEST_WINDOW_MS,
  redirectRefused,
  signedHeaders,
  verifyRequest,
} from "../../../core/federation/transport.ts"
import { watchEscapes } from "../../support/escapes.ts"

const caller = generateIdentity()
const pubkeyOf = async (atom: string) => (atom === caller.atomId ? caller.pubkey : undefined)

function signed(now: number, body = "{}") {
  const bytes = Buffer.from(body)
  const headers = signedHeaders(caller, "POST", "/v1/federation/p2p/gossip", bytes, now)
  return { req: new Request("http://pool/v1/federation/p2p/gossip", { method: "POST", headers }), bytes }
}

describe("request nonces", () => {
  test("the same signed request twice: the second is request_replayed (409)", async () => {
    const nonces = new NonceWindow()
    const now = Date.now()
    const { req, bytes } = signed(now)
    expect((await verifyRequest(req, bytes, now, pubkeyOf, nonces)).atomId).toBe(caller.atomId)
    const again = await verifyRequest(req, bytes, now + 1000, pubkeyOf, nonces).catch((e) => e)
    expect([again.code, again.status]).toEqual(["request_replayed", 409])
    // Once its timestamp has left the window, the timestamp check refuses it, and the nonce is let go.
    const late = await verifyRequest(req, bytes, now + REQUEST_WINDOW_MS + 1, pubkeyOf, nonces).catch((e) => e)
    expect(late.code).toBe("request_expired")
  })

  test("a request without a nonce, or whose nonce was changed, is refused", async () => {
    const now = Date.now()
    const { req, bytes } = signed(now)
    const stripped = new Request(req, { headers: new Headers(req.headers) })
    stripped.headers.delete("x-cellule-fed-nonce")
    expect((await verifyRequest(stripped, bytes, now, pubkeyOf, new NonceWindow()).catch((e) => e)).code).toBe(
      "request_unsigned",
    )
    const swapped = new Request(req, { headers: new Headers(req.headers) })
    swapped.headers.set("x-cellule-fed-nonce", "0".repeat(32))
    expect((await verifyRequest(swapped, bytes, now, pubkeyOf, new NonceWindow()).catch((e) => e)).code).toBe(
      "request_signature_invalid",
    )
  })

  test("bounded: expired nonces are pruned; a window full of live ones refuses rather than forgets", () => {
    const w = new NonceWindow(3, 1000)
    const t = 1_000_000
    for (const n of ["a", "b", "c"]) w.claim("atom", n, t, t)
    expect(w.size).toBe(3)
    expect(() => w.claim("atom", "d", t, t + 10)).toThrow(/too many/)
    expect(() => w.claim("atom", "a", t, t + 10)).toThrow(/replayed/)
    w.claim("atom", "d", t + 2000, t + 2000) // the first three have expired: pruned, room again
    expect(w.size).toBe(1)
  })
})

describe("peer backoff", () => {
  test("doubles from the base with ±20 % jitter and never exceeds the cap", () => {
    expect(PeerPipeline.backoffMs(1, 500, 30_000, () => 0.5)).toBe(500)
    expect(PeerPipeline.backoffMs(3, 500, 30_000, () => 0.5)).toBe(2000)
    expect(PeerPipeline.backoffMs(3, 500, 30_000, () => 0)).toBe(1600)
    expect(PeerPipeline.backoffMs(3, 500, 30_000, () => 1)).toBe(2400)
    for (const f of [7, 8, 20, 100]) expect(PeerPipeline.backoffMs(f, 500, 30_000, () => 1)).toBeLessThanOrEqual(30_000)
  })
})

test("a refused redirect whose body already failed (connection reset) is refused without an unhandled rejection", async () => {
  const escapes = watchEscapes()
  try {
    const res = new Response(
      new ReadableStream({
        start(c) {
          c.error(new Error("connection reset"))
        },
      }),
      { status: 302, headers: { location: "http://elsewhere/" } },
    )
    expect(redirectRefused("http://peer:8080", res).code).toBe("peer_redirected")
    await Bun.sleep(20)
    expect(escapes.escaped).toEqual([])
  } finally {
    escapes.stop()
  }
})
