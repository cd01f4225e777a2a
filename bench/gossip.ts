// bench/gossip — federation throughput and convergence on real pool processes (one embedded
// database each, full mesh at trust 3, loopback). Prints one table row per cluster size.
//   ./node_modules/.bin/bun bench/gossip.ts [--pools 3,10] [--burst 300] [--probes 10]
// Single-change convergence: a PUT on pool 0, then every other pool polled every 5 ms until it shows
// the value. Burst: N changes published on pool 0 (8 in flight), then the time until every pool has
// applied all N; "applied/s per pool" is N divided by that pool's own time to apply them.
import { parseArgs } from "node:util"
import { cleanupAll } from "../test/support/proc.ts"
import { admin, bondAll, settingOn, startFedPool, until, type FedPool } from "../test/unit/federation/_procs.ts"

const { values } = parseArgs({ options: { pools: { type: "string", default: "3,10" }, burst: { type: "string", default: "300" }, probes: { type: "string", default: "10" } } })
const sizes = values.pools!.split(",").map(Number)
const burst = Number(values.burst)
const probes = Number(values.probes)

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length - 1) * p))]

async function run(n: number) {
  const t0 = performance.now()
  // Anti-entropy is slowed down so the numbers measure push + relay, not the periodic pull.
  const pools: FedPool[] = await Promise.all(Array.from({ length: n }, (_, i) => startFedPool({ name: `bench-${i}`, env: { LOG_LEVEL: "warn", CELLULE_FED_ANTI_ENTROPY_MS: "5000", CELLULE_FED_PROBE_MS: "2000" } })))
  const bootS = (performance.now() - t0) / 1000
  const ids = await bondAll(pools)
  const origin = ids[0].atom_id

  const single: number[] = []
  for (let i = 0; i < probes; i++) {
    const value = { probe: i, at: Date.now() }
    const start = performance.now()
    await admin(pools[0], "PUT", "/v1/admin/settings/moe_local_config", { value })
    await Promise.all(pools.slice(1).map((p) => until("probe", async () => Bun.deepEquals(await settingOn(p, "moe_local_config"), value), 30_000, 5)))
    single.push(performance.now() - start)
  }

  const hwOf = async (p: FedPool) => ((await admin(p, "GET", "/v1/federation/status")).high_water[origin] ?? 0) as number
  const base = await hwOf(pools[0])
  const target = base + burst
  const start = performance.now()
  const done = new Map<FedPool, number>()
  const watchers = pools.slice(1).map(async (p) => {
    await until("burst", async () => (await hwOf(p)) >= target, 300_000, 20)
    done.set(p, performance.now() - start)
  })
  let next = 0
  await Promise.all(Array.from({ length: 8 }, async () => {
    while (next < burst) {
      const i = next++
      await admin(pools[0], "PUT", `/v1/admin/settings/flags.bench_${i % 50}`, { value: i % 2 === 0 })
    }
  }))
  const publishMs = performance.now() - start
  await Promise.all(watchers)
  const times = [...done.values()]
  const rates = times.map((ms) => burst / (ms / 1000))
  await cleanupAll()
  return {
    pools: n,
    boot_s: bootS.toFixed(1),
    single_p50_ms: pct(single, 0.5).toFixed(0),
    single_p95_ms: pct(single, 0.95).toFixed(0),
    burst,
    publish_s: (publishMs / 1000).toFixed(2),
    converge_s: (Math.max(...times) / 1000).toFixed(2),
    applied_per_s_min: Math.min(...rates).toFixed(0),
    applied_per_s_avg: (rates.reduce((a, b) => a + b, 0) / rates.length).toFixed(0),
  }
}

const rows = []
for (const n of sizes) rows.push(await run(n))
const cols = Object.keys(rows[0]) as (keyof (typeof rows)[0])[]
console.log(`\ngossip bench — real pool processes, loopback, full mesh trust 3 (${navigator.hardwareConcurrency} CPUs)`)
console.log(`| ${cols.join(" | ")} |`)
console.log(`|${cols.map(() => "---").join("|")}|`)
for (const r of rows) console.log(`| ${cols.map((c) => r[c]).join(" | ")} |`)
process.exit(0)
