// WAN: three pools in their own network namespaces on one bridge; 150 ms added between B and C.
// Convergence still happens and topology classifies A-B, A-C as LAN and B-C as WAN.
// The delay is `tc netem` when the kernel has sch_netem; otherwise (said loudly) a userspace relay in
// the namespaces adds the same 150 ms round trip on the B<->C path. Namespaces are removed even on failure.
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { BUN, ROOT, cleanupAll, onCleanup, spawnProc } from "../support/proc.ts"
import { admin, bondAll, makeMaster, settingOn, startFedPool, type FedPool } from "../support/fed-pools.ts"
import { until } from "../support/until.ts"
import { nsFetch, removeNamespaces, sh } from "../support/netns.ts"

const tag = `cf${process.pid % 100000}`
const NS = { a: `${tag}a`, b: `${tag}b`, c: `${tag}c`, sw: `${tag}sw` }
const IP = { a: "10.77.0.1", b: "10.77.0.2", c: "10.77.0.3" }
const PORT = 8080
const DELAY_PORT = 9000

const removeAll = () => removeNamespaces(Object.values(NS))

let delayMode = ""
let pools: Record<"a" | "b" | "c", FedPool>
const fa = nsFetch(NS.a)

beforeAll(async () => {
  // Registered first so it runs last, after every process in the namespaces is gone.
  onCleanup(removeAll)
  removeAll() // leftovers of a run that was killed before its cleanup
  const probe = sh(["ip", "netns", "add", NS.sw], true)
  if (!probe.ok)
    throw new Error(`network namespaces are not available here (need root and CAP_SYS_ADMIN): ${probe.out}`)
  sh(["ip", "-n", NS.sw, "link", "add", "br0", "type", "bridge"])
  sh(["ip", "-n", NS.sw, "link", "set", "br0", "up"])
  for (const k of ["a", "b", "c"] as const) {
    const ns = NS[k]
    sh(["ip", "netns", "add", ns])
    sh(["ip", "-n", ns, "link", "set", "lo", "up"])
    sh(["ip", "-n", ns, "link", "add", "eth0", "type", "veth", "peer", "name", `p${k}`, "netns", NS.sw])
    sh(["ip", "-n", ns, "addr", "add", `${IP[k]}/24`, "dev", "eth0"])
    sh(["ip", "-n", ns, "link", "set", "eth0", "up"])
    sh(["ip", "-n", NS.sw, "link", "set", `p${k}`, "master", "br0"])
    sh(["ip", "-n", NS.sw, "link", "set", `p${k}`, "up"])
  }
  // 150 ms between B and C only: netem on B's egress towards C, and on C's egress towards B (75 ms each way).
  const netem = (k: "b" | "c", dst: string) =>
    [
      ["tc", "qdisc", "add", "dev", "eth0", "root", "handle", "1:", "htb", "default", "10"],
      ["tc", "class", "add", "dev", "eth0", "parent", "1:", "classid", "1:10", "htb", "rate", "10gbit"],
      ["tc", "class", "add", "dev", "eth0", "parent", "1:", "classid", "1:20", "htb", "rate", "10gbit"],
      ["tc", "qdisc", "add", "dev", "eth0", "parent", "1:20", "handle", "20:", "netem", "delay", "75ms"],
      [
        "tc",
        "filter",
        "add",
        "dev",
        "eth0",
        "parent",
        "1:",
        "protocol",
        "ip",
        "u32",
        "match",
        "ip",
        "dst",
        `${dst}/32`,
        "flowid",
        "1:20",
      ],
    ].map((c) => ["ip", "netns", "exec", NS[k], ...c])
  const tried = [...netem("b", IP.c), ...netem("c", IP.b)].map((c) => sh(c, true))
  const failed = tried.find((r) => !r.ok)
  const urlOf = (_from: FedPool, to: FedPool) => to.url
  let wanUrl = urlOf
  if (!failed) delayMode = "tc netem 75 ms each way on the B<->C path"
  else {
    delayMode = `userspace relay, 75 ms each way on the B<->C path (tc netem unavailable: ${failed.out.trim()})`
    console.warn(
      `\n!!! WAN test: this kernel has no sch_netem (${failed.out.trim()}); the 150 ms B<->C round trip comes from a userspace delay relay inside the namespaces instead.\n`,
    )
    for (const [k, target] of [
      ["b", IP.c],
      ["c", IP.b],
    ] as const) {
      const r = spawnProc([
        "ip",
        "netns",
        "exec",
        NS[k],
        BUN,
        `${ROOT}/test/unit/federation/_delay-relay.ts`,
        IP[k],
        String(DELAY_PORT),
        target,
        String(PORT),
        "75",
      ])
      await r.waitFor(/delay relay .* ready/, 30_000)
    }
    // B reaches C (and C reaches B) through the relay in its own namespace.
    wanUrl = (from, to) =>
      from.name === "b" && to.name === "c"
        ? `http://${IP.b}:${DELAY_PORT}`
        : from.name === "c" && to.name === "b"
          ? `http://${IP.c}:${DELAY_PORT}`
          : to.url
  }
  const started = await Promise.all(
    (["a", "b", "c"] as const).map((k) =>
      startFedPool({
        name: k,
        host: IP[k],
        port: PORT,
        prefix: ["ip", "netns", "exec", NS[k]],
        env: { CELLULE_FED_ALLOW_LOOPBACK_URL: "false" },
      }),
    ),
  )
  pools = { a: started[0], b: started[1], c: started[2] }
  const list = [pools.a, pools.b, pools.c]
  await bondAll(list, fa, wanUrl)
  // bondAll registers each pair from one side; let C record B's delayed URL too.
  // (B keeps its own working path to C: a hello never replaces a URL whose probes succeed.)
  if (wanUrl !== urlOf) {
    await until(
      "B reaches C through the relay",
      async () =>
        (await admin(pools.b, "GET", "/v1/federation/peers", undefined, fa)).peers.find((p: any) => p.pool_name === "c")
          ?.last_seen,
      20_000,
      200,
    )
    await admin(pools.c, "POST", "/v1/federation/admin/register", { url: wanUrl(pools.c, pools.b) }, fa)
  }
}, 300_000)
afterAll(cleanupAll)

describe(`WAN: three pools in namespaces, 150 ms between B and C`, () => {
  test("topology classifies A-B and A-C as LAN, B-C as WAN", async () => {
    console.log(`delay: ${delayMode}`)
    const linkOf = async (from: FedPool) =>
      Object.fromEntries(
        (await admin(from, "GET", "/v1/federation/topology", undefined, fa)).links.map((l: any) => [l.pool_name, l]),
      )
    const { value } = await until(
      "links classified",
      async () => {
        const [la, lb, lc] = await Promise.all([linkOf(pools.a), linkOf(pools.b), linkOf(pools.c)])
        const ok =
          la.b?.link === "lan" &&
          la.c?.link === "lan" &&
          lb.a?.link === "lan" &&
          lb.c?.link === "wan" &&
          lc.b?.link === "wan" &&
          lc.a?.link === "lan"
        return ok && { la, lb, lc }
      },
      20_000,
      200,
    )
    console.log(
      `RTT ms: a-b ${value.la.b.latency_ms}, a-c ${value.la.c.latency_ms}, b-c ${value.lb.c.latency_ms}, c-b ${value.lc.b.latency_ms}`,
    )
    expect(value.lb.c.latency_ms).toBeGreaterThan(140)
    const topo = await admin(pools.b, "GET", "/v1/federation/topology", undefined, fa)
    expect(topo.network_type).toBe("wan")
  })

  test("a change on B converges on A and C; a change on C converges on B", async () => {
    const v1 = { profile: "wan", from: "b", at: Date.now() }
    // Only the catalogue master takes setting changes: B first, then C.
    await makeMaster([pools.a, pools.b, pools.c], 1, fa)
    await admin(pools.b, "PUT", "/v1/admin/settings/moe_local_config", { value: v1 }, fa)
    const seen = await Promise.all(
      [pools.a, pools.c].map((p) =>
        until(
          `setting on ${p.name}`,
          async () => Bun.deepEquals(await settingOn(p, "moe_local_config", fa), v1),
          10_000,
          50,
        ),
      ),
    )
    await makeMaster([pools.a, pools.b, pools.c], 2, fa)
    await admin(pools.c, "PUT", "/v1/admin/settings/flags.wan_ok", { value: true }, fa)
    const back = await until(
      "flag on b",
      async () => (await settingOn(pools.b, "flags.wan_ok", fa)) === true,
      10_000,
      50,
    )
    console.log(
      `convergence: b->a ${Math.round(seen[0].ms)} ms, b->c ${Math.round(seen[1].ms)} ms, c->b ${Math.round(back.ms)} ms (polled through curl in a namespace)`,
    )
  })

  test("with A down, B and C still converge over the WAN link alone", async () => {
    await pools.a.kill("SIGKILL")
    const v = { profile: "wan-only", at: Date.now() }
    // The admin promotes B (a dead master is never replaced on its own); B knows at once.
    await admin(pools.b, "POST", "/v1/admin/models/promote-master", undefined, fa)
    await admin(pools.b, "PUT", "/v1/admin/settings/moe_local_config", { value: v }, fa)
    const t = await until(
      "setting on c via the WAN link",
      async () => Bun.deepEquals(await settingOn(pools.c, "moe_local_config", fa), v),
      10_000,
      50,
    )
    console.log(`b->c over the 150 ms link only: ${Math.round(t.ms)} ms`)
  })
})
