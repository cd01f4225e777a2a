// `cellule proxy` in front of three real pools, each served by a real worker that joined through the
// proxy's WebSocket pass-through: sticky admin paths, and a pool SIGKILLed under a 200-request load.
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { chatLoad, chatOnce } from "../support/load.ts"
import { until } from "../support/until.ts"
import { tinyLlamaPath } from "../support/fixtures.ts"
import {
  celluleCmd,
  cleanupAll,
  spawnProc,
  startCelluleProxy,
  startPool,
  startWorker,
  type PoolProc,
  type Proc,
} from "../support/proc.ts"

const TOKEN = "proxy-test-token-0123456789"

async function tinyWorkers(poolUrl: string): Promise<number> {
  const j = (await fetch(`${poolUrl}/v1/models`)
    .then((r) => r.json())
    .catch(() => ({}))) as { data?: { id: string; cellule?: { workers?: number } }[] }
  return j.data?.find((m) => m.id === "tiny")?.cellule?.workers ?? 0
}

/** Which pool the proxy's access log says served `path` for client `ip`, one entry per request. */
async function servedBy(proxy: Proc, ip: string, path: string, expected: number): Promise<string[]> {
  let found: string[] = []
  await until(
    `${expected} access log lines for ${ip}`,
    async () => {
      found = servedLines(proxy, ip, path)
      return found.length >= expected
    },
    5_000,
  ).catch((e) => {
    throw new Error(
      `${e.message}; log:\n${proxy
        .stderr()
        .split("\n")
        .filter((l) => l.includes(ip))
        .join("\n")}`,
    )
  })
  return found
}

function servedLines(proxy: Proc, ip: string, path: string): string[] {
  const re = new RegExp(
    `(?:^|\\s)${ip.replace(/\./g, "\\.")} "GET ${path.replace(/\//g, "\\/")}" \\d+ .*upstream=(\\S+)`,
    "g",
  )
  return [...proxy.stderr().matchAll(re)].map((m) => m[1])
}

let pools: PoolProc[]
const homeOf = new Map<string, string>()
let proxy: Proc & { url: string }

beforeAll(async () => {
  const model = await tinyLlamaPath()
  pools = await Promise.all(
    [0, 1, 2].map((i) =>
      startPool({ env: { CELLULE_WORKER_TOKEN: TOKEN, POOL_NAME: `pool-${i}`, LOG_LEVEL: "warn" } }),
    ),
  )
  proxy = await startCelluleProxy(
    pools.map((p) => p.url),
    // The test process stands in for a front proxy so it can speak for several client IPs.
    { LOG_LEVEL: "info", CELLULE_PROXY_HEALTH_INTERVAL_MS: "1000", CELLULE_TRUSTED_PROXIES: "127.0.0.1/32" },
  )
  // Workers know only the proxy: they join a pool through its WebSocket pass-through.
  for (let i = 0; i < 3; i++)
    await startWorker({
      poolUrl: proxy.url,
      token: TOKEN,
      models: [`tiny=${model}`],
      slots: 2,
      env: { LOG_LEVEL: "warn" },
    })
}, 120_000)

afterAll(cleanupAll)

describe("cellule proxy in front of three pools", () => {
  test("workers that join through the proxy spread one per pool and serve requests", async () => {
    await until(
      "one worker on each pool",
      async () => (await Promise.all(pools.map((p) => tinyWorkers(p.url)))).every((n) => n === 1),
      30_000,
    )
    expect((await chatOnce(proxy.url, 1, 8)).outcome).toBe("ok")
    expect((await chatOnce(proxy.url, 2, 8)).outcome).toBe("ok")
    const metrics = await (await fetch(`${proxy.url}/metrics`)).text()
    expect(metrics).toContain("cellule_proxy_websockets 3")
  })

  test("admin paths stay on one pool per client IP; clients spread over the pools", async () => {
    const homes = new Set<string>()
    for (let c = 1; c <= 12; c++) {
      const ip = `10.1.0.${c}`
      for (let i = 0; i < 4; i++)
        await fetch(`${proxy.url}/v1/admin/license`, { headers: { "x-forwarded-for": ip } }).then((r) =>
          r.arrayBuffer(),
        )
      const served = await servedBy(proxy, ip, "/v1/admin/license", 4)
      expect(served).toHaveLength(4)
      expect(new Set(served).size).toBe(1)
      homes.add(served[0])
      homeOf.set(ip, served[0])
    }
    expect(homes.size).toBeGreaterThan(1)
  })

  test("SIGKILL of one pool under 200 mixed requests fails none, except streams already started on it", async () => {
    const victim = pools[1]
    let killedAt = -1
    const res = await chatLoad(proxy.url, {
      total: 200,
      concurrency: 12,
      maxTokens: 8,
      onProgress: (done) => {
        if (killedAt < 0 && done >= 50) {
          killedAt = done
          victim.proc.kill("SIGKILL")
        }
      },
    })
    const metrics = await (await fetch(`${proxy.url}/metrics`)).text()
    const retries = [...metrics.matchAll(/cellule_proxy_retries_total\{[^}]*\} (\d+)/g)].reduce(
      (a, m) => a + Number(m[1]),
      0,
    )
    console.log(
      `proxy kill test: killed pool-1 after ${killedAt} answers; ok ${res.ok}, failed ${res.failed}, streams cut on the killed pool ${res.cut}, retries ${retries}, ${(200 / (res.wallMs / 1000)).toFixed(1)} req/s`,
    )
    for (const f of res.failures) console.log(`  ${f}`)
    expect(killedAt).toBeGreaterThan(0)
    expect(res.failed).toBe(0)
    expect(res.ok + res.cut).toBe(200)
    expect(metrics).toContain(`cellule_proxy_upstream_up{upstream="${victim.url}"} 0`)

    // The killed pool's worker comes back through the proxy, onto a live pool.
    await until(
      "the orphaned worker rejoined a live pool",
      async () => (await tinyWorkers(pools[0].url)) + (await tinyWorkers(pools[2].url)) === 3,
      30_000,
    )
    // Clients whose pool died moved to a live one and stay together there; the others did not move.
    let moved = 0
    for (const [ip, home] of homeOf) {
      for (let i = 0; i < 3; i++)
        await fetch(`${proxy.url}/v1/admin/workers`, { headers: { "x-forwarded-for": ip } }).then((r) =>
          r.arrayBuffer(),
        )
      const served = await servedBy(proxy, ip, "/v1/admin/workers", 3)
      expect(new Set(served).size).toBe(1)
      if (home === victim.url) {
        expect(served[0]).not.toBe(victim.url)
        moved++
      } else expect(served[0]).toBe(home)
    }
    console.log(`sticky clients moved off the killed pool: ${moved} of ${homeOf.size}`)
  }, 120_000)

  test("repeated --upstream flags all count, and no pool at all stops start-up with exit 2", async () => {
    const p = spawnProc([
      ...celluleCmd(),
      "proxy",
      "--host",
      "127.0.0.1",
      "--port",
      "0",
      "--upstream",
      pools[0].url,
      "--upstream",
      pools[2].url,
    ])
    const m = await p.waitFor(/pools: (.*)/)
    expect(m[1].trim().split(", ")).toEqual([pools[0].url, pools[2].url])
    await p.kill()
    const none = spawnProc([...celluleCmd(), "proxy", "--port", "0"], { env: { CELLULE_PROXY_UPSTREAMS: undefined } })
    expect(await none.exited).toBe(2)
    expect(none.stderr()).toContain("the proxy needs at least one pool")
  })
})
