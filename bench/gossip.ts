// bench/gossip — federation throughput and convergence, full mesh at trust 3 on loopback, one embedded
// database per pool. Prints one table row per cluster size.
//   ./node_modules/.bin/bun bench/gossip.ts [--pools 3:procs,10:inproc] [--burst 300] [--probes 10]
// procs: real `cellule pool` processes. inproc: N federation instances in this one process, each with
// its own embedded database and HTTP listener, talking the same signed HTTP (cheaper on 2 cores: one
// Bun runtime instead of N; they share one event loop, so per-pool rates are a lower bound).
// Ingest: N changes are published on pool 0 while its bonds are still at trust 1 (nothing flows), then
// every bond is promoted; "applied/s" is N divided by the time each other pool takes to verify and apply
// the whole backlog (relay pushes + anti-entropy pulls, batches of up to 500).
// Single change: a PUT on pool 0, then every other pool polled every 5 ms until it shows the value.
import { parseArgs } from "node:util"
import { cleanupAll } from "../test/support/proc.ts"
import { systemClock } from "../core/clock.ts"
import { setLogLevel } from "../core/log.ts"
import { peers } from "../core/federation/index.ts"
import { highWater } from "../core/federation/gossip.ts"
import { admin, bondAll, promoteAll, settingOn, startFedPool, type FedPool } from "../test/support/fed-pools.ts"
import { until } from "../test/support/until.ts"
import { startInprocPool, type InprocPool } from "../test/support/fed-inproc.ts"

const { values } = parseArgs({
  options: {
    pools: { type: "string", default: "3:procs,10:inproc" },
    burst: { type: "string", default: "300" },
    probes: { type: "string", default: "10" },
    // poll: every other pool's setting read every 5 ms (9 queries per 5 ms at 10 pools: the poller is a
    // load on the same thread). stats (inproc only): wait on each pool's in-memory applied counter, then
    // read the setting once; no database work while waiting.
    observe: { type: "string", default: "poll" },
  },
})
const observe = values.observe as "poll" | "stats"
const sizes = values
  .pools!.split(",")
  .map((x) => ({ n: Number(x.split(":")[0]), mode: (x.split(":")[1] ?? "procs") as "procs" | "inproc" }))
const burst = Number(values.burst)
const probes = Number(values.probes)

const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length - 1) * p))]

/** The operations the bench needs, whether the pools are processes or in-process instances. */
interface Cluster {
  boot_s: number
  ids: string[]
  bond(): Promise<void>
  promote(): Promise<void>
  publish(i: number, kind: string, payload: unknown): Promise<void>
  hw(i: number, origin: string): Promise<number>
  /** Envelopes received that the pool already had (refused as replay), summed over pools. */
  duplicates(): Promise<number>
  /** Pool-to-pool calls received so far, per route (inproc only: counted at each listener). */
  calls(): Record<string, number>
  setting(i: number, key: string): Promise<unknown>
  /** Envelopes this pool has applied (in memory; inproc only, else undefined). */
  applied(i: number): number | undefined
  close(): Promise<void>
}

async function procCluster(n: number): Promise<Cluster> {
  const t0 = performance.now()
  // Anti-entropy is slowed down so the numbers measure push + relay, not the periodic pull.
  const pools: FedPool[] = await Promise.all(
    Array.from({ length: n }, (_, i) =>
      startFedPool({
        name: `bench-${i}`,
        env: { LOG_LEVEL: "warn", CELLULE_FED_ANTI_ENTROPY_MS: "5000", CELLULE_FED_PROBE_MS: "2000" },
      }),
    ),
  )
  const boot_s = (performance.now() - t0) / 1000
  let ids: { atom_id: string }[] = []
  const c: Cluster = {
    boot_s,
    ids: [],
    async bond() {
      ids = await bondAll(pools, fetch, undefined, false)
      c.ids = ids.map((x) => x.atom_id)
      // Settings are changed on the catalogue master only (satellites answer 409): make pool 0 the master.
      await admin(pools[0], "POST", "/v1/admin/models/promote-master")
      await until(
        "pool 0 master",
        async () => (await admin(pools[0], "GET", "/v1/admin/settings")).role.role === "master",
        15_000,
        50,
      )
    },
    promote: () => promoteAll(pools, ids),
    async publish(i, kind, payload) {
      const p = payload as any
      if (kind === "setting") await admin(pools[i], "PUT", `/v1/admin/settings/${p.key}`, { value: p.value })
    },
    hw: async (i, origin) =>
      ((await admin(pools[i], "GET", "/v1/federation/status")).high_water[origin] ?? 0) as number,
    duplicates: async () =>
      (
        await Promise.all(
          pools.map(async (p) => (await admin(p, "GET", "/v1/federation/status")).stats.envelopes_refused.replay ?? 0),
        )
      ).reduce((a, b) => a + b, 0),
    setting: (i, key) => settingOn(pools[i], key),
    calls: () => ({}),
    applied: () => undefined,
    close: cleanupAll,
  }
  return c
}

async function inprocCluster(n: number): Promise<Cluster> {
  setLogLevel("warn")
  const t0 = performance.now()
  const nodes: InprocPool[] = []
  // Sequential: N embedded databases starting at once only thrash two cores.
  for (let i = 0; i < n; i++)
    nodes.push(
      await startInprocPool(`inproc-${i}`, {
        CELLULE_FED_GOSSIP_MS: "200",
        CELLULE_FED_ANTI_ENTROPY_MS: "5000",
        CELLULE_FED_PROBE_MS: "2000",
      }),
    )
  const boot_s = (performance.now() - t0) / 1000
  return {
    boot_s,
    ids: nodes.map((x) => x.fed.identity.atomId),
    async bond() {
      for (let i = 0; i < n; i++)
        for (let j = i + 1; j < n; j++) {
          const { token } = await peers.createAttachmentToken(nodes[j].db.sql, systemClock)
          await nodes[i].fed.register(nodes[j].fed.url, { token })
        }
    },
    async promote() {
      await Promise.all(
        nodes.map(async (x, i) => {
          for (let j = 0; j < n; j++) if (i !== j) await peers.promotePeer(x.db.sql, nodes[j].fed.identity.atomId, 3)
        }),
      )
    },
    async publish(i, kind, payload) {
      await nodes[i].fed.publish(kind, payload)
    },
    hw: async (i, origin) => (await highWater(nodes[i].db.sql))[origin] ?? 0,
    duplicates: async () => nodes.reduce((a, x) => a + (x.fed.stats.envelopes_refused.replay ?? 0), 0),
    calls: () => {
      const all: Record<string, number> = {}
      for (const x of nodes) for (const [route, k] of Object.entries(x.calls)) all[route] = (all[route] ?? 0) + k
      return all
    },
    applied: (i) => nodes[i].fed.stats.envelopes_applied,
    async setting(i, key) {
      const [row] = await nodes[i].db.sql`select value::text as v from cluster_settings where key = ${key}`
      return row ? JSON.parse(row.v) : undefined
    },
    // startInprocPool registered each pool's stop with the test support's cleanup.
    close: cleanupAll,
  }
}

/** Calls received between two counts, by route, divided by `per`: "gossip 9.0, hw 61.7". */
function perRoute(before: Record<string, number>, after: Record<string, number>, per: number) {
  return Object.entries(after)
    .map(([k, v]) => [k, (v - (before[k] ?? 0)) / per] as const)
    .filter(([, v]) => v > 0)
    .map(([k, v]) => `${k.replace("p2p/", "")} ${v.toFixed(per === 1 ? 0 : 1)}`)
    .join(", ")
}

async function run({ n, mode }: { n: number; mode: "procs" | "inproc" }) {
  const c = mode === "procs" ? await procCluster(n) : await inprocCluster(n)
  await c.bond()
  const origin = c.ids[0]

  let next = 0
  const publishStart = performance.now()
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < burst) {
        const i = next++
        await c.publish(0, "setting", { key: `flags.bench_${i % 50}`, value: i % 2 === 0 })
      }
    }),
  )
  const publishMs = performance.now() - publishStart
  const target = await c.hw(0, origin)
  const backlogCallsBefore = c.calls()
  const backlogDupBefore = await c.duplicates()
  const start = performance.now()
  await c.promote()
  const times = await Promise.all(
    Array.from({ length: n - 1 }, async (_, k) => {
      await until("backlog applied", async () => (await c.hw(k + 1, origin)) >= target, 600_000, 20)
      return performance.now() - start
    }),
  )
  const rates = times.map((ms) => burst / (ms / 1000))
  const backlogCalls = perRoute(backlogCallsBefore, c.calls(), 1)
  const backlogDup = (await c.duplicates()) - backlogDupBefore

  const single: number[] = []
  const publishOnly: number[] = []
  const first: number[] = []
  const dupBefore = await c.duplicates()
  const callsBefore = c.calls()
  for (let i = 0; i < probes; i++) {
    const value = { probe: i, at: Date.now() }
    const before = Array.from({ length: n }, (_, k) => c.applied(k) ?? 0)
    const t = performance.now()
    await c.publish(0, "setting", { key: "moe_local_config", value })
    const published = performance.now()
    const seen = await Promise.all(
      Array.from({ length: n - 1 }, async (_, k) => {
        if (observe === "stats" && c.applied(k + 1) !== undefined)
          while (c.applied(k + 1)! <= before[k + 1]) await Bun.sleep(1)
        await until("probe", async () => Bun.deepEquals(await c.setting(k + 1, "moe_local_config"), value), 30_000, 5)
        return performance.now() - t
      }),
    )
    single.push(performance.now() - t)
    // Where the time goes: the origin's own publish, then the first and the last pool to show it.
    publishOnly.push(published - t)
    first.push(Math.min(...seen))
  }
  const dup = await c.duplicates()
  const callsAfter = c.calls()
  // Per single change: calls received, summed over pools, by route (gossip, hw, pull, …).
  const perChange = perRoute(callsBefore, callsAfter, probes)
  await c.close()
  return {
    pools: n,
    mode,
    observe,
    boot_s: c.boot_s.toFixed(1),
    single_p50_ms: pct(single, 0.5).toFixed(0),
    single_p95_ms: pct(single, 0.95).toFixed(0),
    single_publish_p50_ms: pct(publishOnly, 0.5).toFixed(0),
    single_first_pool_p50_ms: pct(first, 0.5).toFixed(0),
    backlog: burst,
    published_per_s: (burst / (publishMs / 1000)).toFixed(0),
    backlog_converged_s: (Math.max(...times) / 1000).toFixed(2),
    applied_per_s_min: Math.min(...rates).toFixed(0),
    applied_per_s_avg: (rates.reduce((a, b) => a + b, 0) / rates.length).toFixed(0),
    duplicate_deliveries: dup,
    backlog_duplicates: backlogDup,
    backlog_calls: backlogCalls || "n/a (procs)",
    single_duplicates_per_change: ((dup - dupBefore) / probes).toFixed(1),
    calls_per_change: perChange || "n/a (procs)",
  }
}

const rows = []
for (const n of sizes) {
  rows.push(await run(n))
  // Each row as soon as it is known: a later size that fails must not lose the earlier ones.
  console.log(JSON.stringify(rows.at(-1)))
}
const cols = Object.keys(rows[0]) as (keyof (typeof rows)[0])[]
console.log(
  `\ngossip bench — loopback, full mesh at trust 3, one embedded database per pool (${navigator.hardwareConcurrency} CPUs, load ${(await import("node:os")).loadavg()[0].toFixed(1)})`,
)
console.log(`| ${cols.join(" | ")} |`)
console.log(`|${cols.map(() => "---").join("|")}|`)
for (const r of rows) console.log(`| ${cols.map((c) => r[c]).join(" | ")} |`)
process.exit(0)
