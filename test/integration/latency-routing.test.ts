// §4.8 latency routing with real processes in network namespaces (issue 17, criterion 3). Two sites, each
// a router namespace with a bridge (site A 10.1.0.0/24; site B 10.2.0.0/24 and a second subnet
// 10.2.1.0/24), the routers joined by one "wan" link; one pool per site, bonded. Every worker enrolls
// through ONE entry, pool A:
//   - a1 (10.1.0.10, site A) stays on A: no order;
//   - b1 (10.2.0.10, site B) shares pool B's /24: one order at its handshake (the guide's rule), to B;
//   - v1 (10.2.1.20, site B) reaches A through a relay in site B's router that adds 20 ms each way and hides
//     its address (as NAT or a site-to-site VPN does): A sees 10.99.0.2, on no pool's /24, so the /24 rule
//     keeps it on A; its measured round trips (B ~1 ms, A ≥ 40 ms) move it to B after 3 stable rounds.
// Then the link flaps (wan down/up, v1's own port down/up) and no worker gets a second order or moves.
// The kernel here has no sch_netem, hence the userspace delay relay. Namespaces are removed even on failure.
import { afterAll, beforeAll, expect, test } from "bun:test"
import { admin, bondAll, startFedPool, type FedPool } from "../support/fed-pools.ts"
import { BUN, ROOT, celluleCmd, cleanupAll, onCleanup, spawnProc, tempDir, type Proc } from "../support/proc.ts"
import { tinyLlamaPath } from "../support/fixtures.ts"
import { until } from "../support/until.ts"
import { nsFetch, removeNamespaces, sh } from "../support/netns.ts"

const tag = `cl${process.pid % 100000}`
const NS = {
  sA: `${tag}sA`,
  sB: `${tag}sB`,
  pA: `${tag}pA`,
  pB: `${tag}pB`,
  a1: `${tag}a1`,
  b1: `${tag}b1`,
  v1: `${tag}v1`,
}
const TOKEN = "latency-token-abcdefghijkl"
const URL_A = "http://10.1.0.1:8080"
const URL_B = "http://10.2.0.1:8080"
const RELAY = "http://10.2.1.254:9000"
const ENV = {
  CELLULE_WORKER_TOKEN: TOKEN,
  CELLULE_FED_ALLOW_LOOPBACK_URL: "false",
  CELLULE_WORKERS_AUTO_LATENCY_ROUTING: "true",
  CELLULE_WORKERS_LATENCY_PROBE_MS: "300",
  CELLULE_WORKERS_LATENCY_STABLE_OBSERVATIONS: "3",
  // The relay adds 40 ms; a loaded test machine adds up to ~20 ms to a busy pool's HTTP answer.
  CELLULE_WORKERS_LATENCY_MIN_GAIN_MS: "25",
  CELLULE_HEARTBEAT_MS: "400",
  CELLULE_MIGRATION_EXECUTOR_MS: "200",
  CELLULE_MIGRATION_TIMEOUT_MS: "8000",
  CELLULE_MIGRATION_COOLDOWN_MS: "600000",
  CELLULE_BALANCER_EXECUTOR_ENABLED: "true",
}

const removeAll = () => removeNamespaces(Object.values(NS))

/** A host namespace on a site's bridge: eth0 with `cidr`, default route through the site router. */
function host(ns: string, site: string, port: string, cidr: string, gw: string) {
  sh(["ip", "netns", "add", ns])
  sh(["ip", "-n", ns, "link", "set", "lo", "up"])
  sh(["ip", "-n", ns, "link", "add", "eth0", "type", "veth", "peer", "name", port, "netns", site])
  sh(["ip", "-n", ns, "addr", "add", cidr, "dev", "eth0"])
  sh(["ip", "-n", ns, "link", "set", "eth0", "up"])
  sh(["ip", "-n", ns, "route", "add", "default", "via", gw])
  sh(["ip", "-n", site, "link", "set", port, "master", "br0"])
  sh(["ip", "-n", site, "link", "set", port, "up"])
}

const fa = nsFetch(NS.sA)
let pools: { a: FedPool; b: FedPool }
let ids: { atom_id: string }[]
const workers: Record<string, Proc> = {}

function startWorkerIn(ns: string, name: string, poolUrl: string, model: string): Proc {
  return spawnProc(
    [
      "ip",
      "netns",
      "exec",
      ns,
      ...celluleCmd(),
      "worker",
      "--pool",
      poolUrl,
      "--token",
      TOKEN,
      "--data-dir",
      tempDir(`cellule-lat-${name}-`),
      "--slots",
      "1",
      "--threads",
      "1",
      "--context-size",
      "512",
      "--heartbeat-ms",
      "1000",
      "--model",
      `tiny=${model}`,
    ],
    { env: { CELLULE_WORKER_NAME: name } },
  )
}

beforeAll(async () => {
  // Registered first so it runs last, after every process in the namespaces is gone.
  onCleanup(removeAll)
  removeAll()
  const probe = sh(["ip", "netns", "add", NS.sA], true)
  if (!probe.ok) throw new Error(`network namespaces are not available here (need root): ${probe.out}`)
  sh(["ip", "netns", "add", NS.sB])
  for (const [site, addrs] of [
    [NS.sA, ["10.1.0.254/24"]],
    [NS.sB, ["10.2.0.254/24", "10.2.1.254/24"]],
  ] as const) {
    sh(["ip", "-n", site, "link", "set", "lo", "up"])
    sh(["ip", "-n", site, "link", "add", "br0", "type", "bridge"])
    for (const a of addrs) sh(["ip", "-n", site, "addr", "add", a, "dev", "br0"])
    sh(["ip", "-n", site, "link", "set", "br0", "up"])
    sh(["ip", "netns", "exec", site, "sysctl", "-qw", "net.ipv4.ip_forward=1"])
  }
  // The inter-site link.
  sh(["ip", "-n", NS.sA, "link", "add", "wan", "type", "veth", "peer", "name", "wan", "netns", NS.sB])
  sh(["ip", "-n", NS.sA, "addr", "add", "10.99.0.1/30", "dev", "wan"])
  sh(["ip", "-n", NS.sB, "addr", "add", "10.99.0.2/30", "dev", "wan"])
  sh(["ip", "-n", NS.sA, "link", "set", "wan", "up"])
  sh(["ip", "-n", NS.sB, "link", "set", "wan", "up"])
  sh(["ip", "-n", NS.sA, "route", "add", "10.2.0.0/16", "via", "10.99.0.2"])
  sh(["ip", "-n", NS.sB, "route", "add", "10.1.0.0/24", "via", "10.99.0.1"])
  host(NS.pA, NS.sA, "pa", "10.1.0.1/24", "10.1.0.254")
  host(NS.a1, NS.sA, "wa1", "10.1.0.10/24", "10.1.0.254")
  host(NS.pB, NS.sB, "pb", "10.2.0.1/24", "10.2.0.254")
  host(NS.b1, NS.sB, "wb1", "10.2.0.10/24", "10.2.0.254")
  host(NS.v1, NS.sB, "wv1", "10.2.1.20/24", "10.2.1.254")
  // Site B's way to pool A for v1: 20 ms each way, from the router's own address (NAT-like).
  const relay = spawnProc([
    "ip",
    "netns",
    "exec",
    NS.sB,
    BUN,
    `${ROOT}/test/unit/federation/_delay-relay.ts`,
    "10.2.1.254",
    "9000",
    "10.1.0.1",
    "8080",
    "20",
  ])
  const model = await tinyLlamaPath()
  const [a, b] = await Promise.all(
    (
      [
        ["a", NS.pA, URL_A],
        ["b", NS.pB, URL_B],
      ] as const
    ).map(([name, ns, url]) =>
      startFedPool({
        name: `lat-${name}`,
        host: "0.0.0.0",
        port: 8080,
        prefix: ["ip", "netns", "exec", ns],
        env: { ...ENV, POOL_URL: url },
      }),
    ),
  )
  pools = { a: Object.assign(a, { url: URL_A }), b: Object.assign(b, { url: URL_B }) }
  await relay.waitFor(/delay relay .* ready/, 30_000)
  ids = await bondAll([pools.a, pools.b], fa)
  workers.a1 = startWorkerIn(NS.a1, "a1", URL_A, model)
  workers.b1 = startWorkerIn(NS.b1, "b1", URL_A, model)
  workers.v1 = startWorkerIn(NS.v1, "v1", RELAY, model)
  await Promise.all(Object.values(workers).map((w) => w.waitFor(/cellule worker ready/, 120_000)))
}, 400_000)
afterAll(cleanupAll)

type Order = { id: string; worker_id: string; state: string; source_pool: string; target_pool: string; reason: string }
const orders = async (p: FedPool) =>
  (await admin<{ data: Order[] }>(p, "GET", "/v1/admin/migration-orders", undefined, fa)).data
/** Both pools' orders, each once: orders replicate (kind migration_order), so A and B both list them. */
const allOrders = async () => [
  ...new Map([...(await orders(pools.a)), ...(await orders(pools.b))].map((o) => [o.id, o])).values(),
]
const on = async (p: FedPool) =>
  (await admin<{ workers: { id: string; name: string }[] }>(p, "GET", "/v1/admin/workers", undefined, fa)).workers
const where = async () => {
  const [a, b] = await Promise.all([on(pools.a), on(pools.b)])
  return Object.fromEntries([...a.map((w) => [w.name, "a"]), ...b.map((w) => [w.name, "b"])]) as Record<string, string>
}

test("workers enrolled through pool A end on their site's pool, one order each; a flapping link moves nobody", async () => {
  const settled = await until(
    "a1 on A, b1 and v1 on B",
    async () => {
      const w = await where()
      return w.a1 === "a" && w.b1 === "b" && w.v1 === "b" ? w : undefined
    },
    60_000,
    200,
  ).catch(async (e) => {
    // What each side saw, for the failure report.
    const log = (p: Proc) =>
      p
        .stderr()
        .split("\n")
        .filter((l) => /latency|migrat|joined|worker/i.test(l))
        .slice(-30)
    console.error(JSON.stringify({ where: await where().catch(String), orders: await orders(pools.a).catch(String) }))
    console.error([...log(pools.a), "----", ...log(workers.v1!), "----", ...log(workers.b1!)].join("\n"))
    throw e
  })
  console.log(`workers on their local pools ${Math.round(settled.ms)} ms after they all joined A`)
  const idOf = Object.fromEntries([...(await on(pools.a)), ...(await on(pools.b))].map((w) => [w.name, w.id]))
  const before = await allOrders()
  const byWorker = (list: Order[], name: string) => list.filter((o) => o.worker_id === idOf[name])
  expect(byWorker(before, "a1")).toEqual([])
  const [b1Order] = byWorker(before, "b1")
  const [v1Order] = byWorker(before, "v1")
  expect(byWorker(before, "b1")).toHaveLength(1)
  expect(byWorker(before, "v1")).toHaveLength(1)
  // b1 by the guide's /24 rule; v1 (its address hidden by the relay) by what it measured.
  expect(b1Order!.reason).toContain("10.2.0.0/24")
  expect(v1Order!.reason).toStartWith("latency: measured")
  for (const o of [b1Order!, v1Order!]) {
    expect(o.source_pool).toBe(ids[0]!.atom_id)
    expect(o.target_pool).toBe(ids[1]!.atom_id)
    expect(o.state).toBe("completed")
  }
  console.log(`orders: b1 "${b1Order!.reason}", v1 "${v1Order!.reason}"`)

  // Flap: the inter-site link down/up, and v1's own port down/up (it reconnects with fresh measures).
  for (let i = 0; i < 4; i++) {
    sh(["ip", "-n", NS.sA, "link", "set", "wan", "down"])
    if (i % 2) sh(["ip", "-n", NS.sB, "link", "set", "wv1", "down"])
    await Bun.sleep(1500)
    sh(["ip", "-n", NS.sA, "link", "set", "wan", "up"])
    // Taking wan down flushed site A's route to site B: the router puts it back.
    sh(["ip", "-n", NS.sA, "route", "replace", "10.2.0.0/16", "via", "10.99.0.2"])
    sh(["ip", "-n", NS.sB, "link", "set", "wv1", "up"])
    await Bun.sleep(1500)
  }
  // Measures come back (several probe rounds at 300 ms) and every worker is on its local pool again.
  await until(
    "every worker on its local pool after the flaps",
    async () => {
      const w = await where()
      return w.a1 === "a" && w.b1 === "b" && w.v1 === "b"
    },
    30_000,
    200,
  )
  await Bun.sleep(3000) // ten probe rounds with the link up: any preference for A would have had its 3 rounds
  const after = await allOrders()
  const counts = Object.fromEntries(["a1", "b1", "v1"].map((n) => [n, byWorker(after, n).length]))
  console.log(`orders per worker after 4 flaps: ${JSON.stringify(counts)}`)
  expect(counts).toEqual({ a1: 0, b1: 1, v1: 1 })
  expect(await where()).toEqual({ a1: "a", b1: "b", v1: "b" })
}, 200_000)
