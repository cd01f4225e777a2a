// Bonding and pool-to-pool calls as a rogue peer and a careless admin would try them, over real pools:
// a URL claimed from CELLULE_BOND_PEERS is no pass (issue 22.2), a bonded key cannot move its URL to a
// redirect (SSRF), a captured signed request cannot be replayed (14.6), register fetches only http(s)
// without redirects and answers generically (22.7), and the licence gates new bonds (14.2).
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { generateIdentity } from "../../core/federation/identity.ts"
import { signedFetch, signedHeaders } from "../../core/federation/transport.ts"
import { generateKeyPair, issueLicense, toHex } from "../../core/license/index.ts"
import { BUN, cleanupAll, onCleanup, ROOT, spawnProc } from "../support/proc.ts"
import { admin, startFedPool, type FedPool } from "../support/fed-pools.ts"
import { freePort } from "../support/proc.ts"
import { until } from "../support/until.ts"

const licenceKey = generateKeyPair()
let a: FedPool
let b: FedPool
let c: FedPool
let claimedPort: number
const mallory = generateIdentity()

/** A loopback service a peer must never make a pool call (counts hits), and a redirector pointing at it. */
const internal = { hits: 0 }
const internalServer = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  fetch() {
    internal.hits++
    return Response.json({ atom_id: mallory.atomId, secret: "internal" })
  },
})
const redirector = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  fetch: (req) => Response.redirect(`http://127.0.0.1:${internalServer.port}${new URL(req.url).pathname}`, 302),
})
const redirectUrl = `http://127.0.0.1:${redirector.port}`
onCleanup(() => {
  internalServer.stop(true)
  redirector.stop(true)
})

async function call(pool: { url: string }, method: string, path: string, body?: unknown) {
  const res = await fetch(pool.url + path, {
    method,
    headers: { "x-cellule-user": "admin@test.local", "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(20_000),
  })
  return { status: res.status, body: (await res.json()) as any }
}

beforeAll(async () => {
  claimedPort = await freePort()
  ;[a, b, c] = await Promise.all([
    startFedPool({
      name: "sec-a",
      env: {
        CELLULE_LICENSE_PUBKEY: toHex((await licenceKey).publicKey),
        // Lists a URL, not a key: whoever claims it must still bring a token.
        CELLULE_BOND_PEERS: `http://127.0.0.1:${claimedPort}`,
      },
    }),
    startFedPool({ name: "sec-b" }),
    startFedPool({ name: "sec-c" }),
  ])
}, 900_000)
afterAll(cleanupAll)

describe("bonding", () => {
  test("a hello claiming a URL listed in CELLULE_BOND_PEERS still needs a token", async () => {
    const res = await signedFetch(mallory, a.url, "/v1/federation/p2p/hello", {
      body: { url: `http://127.0.0.1:${claimedPort}`, pool_name: "mallory", nonce_ts: Date.now() },
      now: Date.now(),
      withPubkey: true,
    }).catch((e) => e)
    expect(res.code).toBe("attachment_token_required")
    const { peers } = await admin(a, "GET", "/v1/federation/peers")
    expect(peers.some((p: any) => p.atom_id === mallory.atomId)).toBe(false)
  })

  test("a bonded key cannot move its URL to a redirect; no pool call ever reaches the redirect's target", async () => {
    const { token } = await admin(a, "POST", "/v1/federation/admin/attachment-tokens")
    await signedFetch(mallory, a.url, "/v1/federation/p2p/hello", {
      body: { url: "http://127.0.0.9:1", pool_name: "mallory", token, nonce_ts: Date.now() },
      now: Date.now(),
      withPubkey: true,
    })
    const moved = await signedFetch(mallory, a.url, "/v1/federation/p2p/hello", {
      body: { url: redirectUrl, pool_name: "mallory", nonce_ts: Date.now() },
      now: Date.now(),
    }).catch((e) => e)
    // Several probe intervals (300 ms in tests) for a probe to follow the redirect if it would.
    await Bun.sleep(2000)
    expect(internal.hits).toBe(0)
    expect(moved.code).toBe("peer_url_unverified")
    const { peers } = await admin(a, "GET", "/v1/federation/peers")
    expect(peers.find((p: any) => p.atom_id === mallory.atomId).url).toBe("http://127.0.0.9:1")
  })

  test("a captured signed request replayed is refused with request_replayed", async () => {
    const path = "/v1/federation/p2p/hello"
    const bytes = Buffer.from(JSON.stringify({ url: "http://127.0.0.9:1", pool_name: "mallory", nonce_ts: 1 }))
    const headers = { "content-type": "application/json", ...signedHeaders(mallory, "POST", path, bytes, Date.now()) }
    const send = () => fetch(a.url + path, { method: "POST", headers, body: bytes })
    const first = await send()
    expect(first.status).toBe(200)
    const replay = await send()
    expect(replay.status).toBe(409)
    expect(((await replay.json()) as any).error).toBe("request_replayed")
  })
})

describe("register (an outbound call an admin triggers)", () => {
  test.each([
    ["file:///etc/passwd", "peer_url_invalid", 400],
    ["ftp://127.0.0.1:21", "peer_url_invalid", 400],
  ])("%s is refused as %s", async (url, code, status) => {
    const res = await call(a, "POST", "/v1/federation/admin/register", { url })
    expect(res.status).toBe(status)
    expect(res.body.error).toBe(code)
  })

  test("a redirect is not followed, and the error says nothing of what answered", async () => {
    const before = internal.hits
    const res = await call(a, "POST", "/v1/federation/admin/register", { url: redirectUrl })
    expect(res.status).toBe(502)
    expect(res.body.error).toBe("peer_unreachable")
    expect(internal.hits).toBe(before)
    const closed = await call(a, "POST", "/v1/federation/admin/register", {
      url: `http://127.0.0.1:${await freePort()}`,
    })
    expect(closed.body.error).toBe("peer_unreachable")
    expect(closed.body.message).not.toMatch(/refused|ECONN|socket|connect to/i)
  })
})

describe("licence gates on new bonds", () => {
  test("multi_site for a non-LAN bond (403), max_pools counted at bond time (402); reads still pass", async () => {
    const key = await licenceKey
    // Cabinet: no multi_site. A + mallory (trust 1) = 2 pools now; one more bond allowed.
    const lic = await issueLicense({ clientId: "fed-test", tier: "cabinet", limits: { max_pools: 3 } }, key.privateKey)
    await admin(a, "POST", "/v1/admin/license/upload", { token: lic.token })

    // C behind a relay adding 40 ms each way: an 80 ms link, WAN.
    const relayPort = await freePort()
    const relay = spawnProc([
      BUN,
      `${ROOT}/test/unit/federation/_delay-relay.ts`,
      "127.0.0.1",
      String(relayPort),
      "127.0.0.1",
      String(c.port),
      "40",
    ])
    await relay.waitFor(/delay relay .* ready/, 30_000)
    const tokenC = (await admin(c, "POST", "/v1/federation/admin/attachment-tokens")).token
    const wan = await call(a, "POST", "/v1/federation/admin/register", {
      url: `http://127.0.0.1:${relayPort}`,
      token: tokenC,
    })
    expect(wan.status).toBe(403)
    expect(wan.body.error).toBe("feature_not_licensed")

    const tokenB = (await admin(b, "POST", "/v1/federation/admin/attachment-tokens")).token
    expect((await call(a, "POST", "/v1/federation/admin/register", { url: b.url, token: tokenB })).status).toBe(200)

    // Three pools now: a fourth is refused, whichever side asks.
    const direct = await call(a, "POST", "/v1/federation/admin/register", { url: c.url, token: tokenC })
    expect(direct.status).toBe(402)
    expect(direct.body.error).toStartWith("limit_reached")
    const tokenA = (await admin(a, "POST", "/v1/federation/admin/attachment-tokens")).token
    const inbound = await call(c, "POST", "/v1/federation/admin/register", { url: a.url, token: tokenA })
    expect(inbound.status).toBe(402)
    expect(inbound.body.error).toStartWith("limit_reached")

    // Reads are never blocked.
    expect((await call(a, "GET", "/v1/federation/peers")).status).toBe(200)
    await until("status readable", async () => (await call(a, "GET", "/v1/federation/status")).status === 200)
  }, 120_000)
})
