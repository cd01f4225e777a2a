// `cellule proxy --discover` in front of two real bonded pools (trust 3), given only pool A: it finds
// pool B through A's federation, never a trust-1 peer, and keeps answering through B once A is SIGKILLed.
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { generateIdentity } from "../../core/federation/identity.ts"
import { signedFetch } from "../../core/federation/transport.ts"
import { celluleCmd, cleanupAll, spawnProc, type Proc } from "../support/proc.ts"
import { admin, bondAll, startFedPool, type FedPool } from "../support/fed-pools.ts"
import { until } from "../support/until.ts"

const MALLORY_URL = "http://127.0.0.9:1"

let a: FedPool
let b: FedPool
let proxy: Proc & { url: string }

const upLine = (url: string) =>
  new RegExp(`cellule_proxy_upstream_up\\{upstream="${url.replace(/[.:/]/g, "\\$&")}"\\} (\\d)`)
const metrics = async () => (await fetch(`${proxy.url}/metrics`, { signal: AbortSignal.timeout(5000) })).text()

beforeAll(async () => {
  ;[a, b] = await Promise.all(["pool-a", "pool-b"].map((name) => startFedPool({ name, env: { LOG_LEVEL: "warn" } })))
  await bondAll([a, b])
  // A peer bonded with A but never promoted (trust 1): it must not be discovered.
  const mallory = generateIdentity()
  const { token } = await admin(a, "POST", "/v1/federation/admin/attachment-tokens")
  await signedFetch(mallory, a.url, "/v1/federation/p2p/hello", {
    body: { url: MALLORY_URL, pool_name: "mallory", token, nonce_ts: Date.now() },
    now: Date.now(),
    withPubkey: true,
  })
  const p = spawnProc(
    [
      ...celluleCmd(),
      "proxy",
      "--host",
      "127.0.0.1",
      "--port",
      "0",
      "--upstream",
      a.url,
      "--discover",
      "--discover-interval-ms",
      "1000",
      "--health-interval-ms",
      "500",
    ],
    {
      env: { LOG_LEVEL: "info" },
    },
  )
  proxy = Object.assign(p, { url: (await p.waitFor(/cellule proxy ready (http:\/\/\S+)/, 60_000))[1] })
}, 300_000)

afterAll(cleanupAll)

describe("cellule proxy --discover", () => {
  test("pool A answers with itself and its trust-3 peer B, not with its trust-1 peer", async () => {
    const res = await fetch(`${a.url}/v1/federation/entry-pools`)
    expect(res.status).toBe(200)
    const body = (await res.json()) as { pools: { url: string; pool_name: string }[] }
    expect(body.pools.map((p) => [p.url, p.pool_name])).toEqual([
      [a.url, "pool-a"],
      [b.url, "pool-b"],
    ])
  })

  test("the proxy given only pool A discovers pool B and puts it in rotation; the trust-1 peer is left out", async () => {
    await until(
      "pool B in the proxy's upstreams, up",
      async () => (await metrics()).match(upLine(b.url))?.[1] === "1",
      15_000,
    )
    const m = await metrics()
    expect(m).toMatch(upLine(a.url))
    expect(m).not.toContain("127.0.0.9")
    expect(proxy.stderr()).toContain(`discovery: upstreams +${b.url} (pool-b)`)
    // Both pools serve requests through the proxy.
    const served = new Set<string>()
    for (let i = 0; i < 8; i++)
      served.add(((await (await fetch(`${proxy.url}/v1/status`)).json()) as { pool_name: string }).pool_name)
    expect([...served].sort()).toEqual(["pool-a", "pool-b"])
  })

  test("after pool A is SIGKILLed, requests through the proxy are answered by pool B", async () => {
    await a.kill("SIGKILL")
    for (let i = 0; i < 10; i++) {
      const res = await fetch(`${proxy.url}/v1/status`, { signal: AbortSignal.timeout(10_000) })
      expect(res.status).toBe(200)
      expect(((await res.json()) as { pool_name: string }).pool_name).toBe("pool-b")
    }
    // Discovery now asks B, which still lists A (bonded, trust 3): the listed pool A stays, marked down.
    await until(
      "pool A marked down, pool B still up",
      async () => {
        const m = await metrics()
        return m.match(upLine(a.url))?.[1] === "0" && m.match(upLine(b.url))?.[1] === "1"
      },
      10_000,
    )
    await until(
      "discovery answered by B",
      async () => proxy.stderr().includes(`discovery: answered by ${b.url}`),
      10_000,
    )
  })
})
