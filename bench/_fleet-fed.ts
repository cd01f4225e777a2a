// bench/_fleet-fed — bench/fleet --pools N: N real `cellule pool` processes (each its own embedded
// database) bonded pairwise at trust 3 with the integration tests' helpers (test/support/fed-pools.ts),
// the production federation intervals (gossip 1 s, anti-entropy 30 s, probe 10 s, key usage 2 s), and
// --workers simulated workers per pool, each simulator process joined to one pool only. Peers reach each
// other through a counting TCP relay in this process (each pool's POOL_URL is its relay; workers, clients
// and the bench's admin calls go to the pool's own port), so every byte between pools is seen, per
// request path. Phases: federated and empty; the fleet idle (heartbeats only); --streams clients spread
// round-robin over the pools; then a forward phase: a model served by pool 1 only, asked of the others,
// so they fetch the peers' forward capacity and forward (the federation path whose answer carries
// per-worker data). In-pool decision time and TTFT come from the pools' own stamps (CELLULE_TTFT_TRACE).
//   bun bench/fleet.ts --pools 4 [--workers 5000] [--streams 200] [--window 20] [--procs 1] [--tps 20] [--per 32]
import { readFileSync } from "node:fs"
import { createConnection, createServer, type Server } from "node:net"
import { arg } from "./_args.ts"
import * as lib from "./_fleet-lib.ts"
import { bondAll, startFedPool, type FedPool } from "../test/support/fed-pools.ts"
import { cleanupAll, freePort, onCleanup } from "../test/support/proc.ts"

const { f, pct } = lib

/** Bytes and requests that crossed into one pool from its peers (and its answers back), per path. */
class PeerRelay {
  readonly paths = new Map<string, { requests: number; up: number; down: number }>()
  private server!: Server
  port = 0

  constructor(private readonly target: number) {}

  async start() {
    this.server = createServer((client) => {
      const upstream = createConnection({ host: "127.0.0.1", port: this.target })
      let current = "(unknown)"
      const at = (path: string) => {
        let e = this.paths.get(path)
        if (!e) {
          e = { requests: 0, up: 0, down: 0 }
          this.paths.set(path, e)
        }
        return e
      }
      client.on("data", (b: Buffer) => {
        // fetch does not pipeline: a request line starts a new request on this connection.
        for (const m of b
          .toString("latin1")
          .matchAll(/(?:^|\r\n)(GET|POST|PUT|PATCH|DELETE) (\/[^ ?]*)\S* HTTP\/1\.1\r\n/g)) {
          current = `${m[1]} ${m[2].replace(/\/[0-9a-f]{16,}(?=\/|$)/g, "/{id}")}`
          at(current).requests++
        }
        at(current).up += b.length
      })
      upstream.on("data", (b: Buffer) => {
        at(current).down += b.length
      })
      client.pipe(upstream)
      upstream.pipe(client)
      const end = () => {
        client.destroy()
        upstream.destroy()
      }
      client.on("error", end)
      upstream.on("error", end)
      client.on("close", end)
      upstream.on("close", end)
    })
    await new Promise<void>((res) => this.server.listen(0, "127.0.0.1", res))
    this.port = (this.server.address() as { port: number }).port
    onCleanup(() => void this.server.close())
  }

  snapshot() {
    return new Map([...this.paths].map(([k, v]) => [k, { ...v }]))
  }
}

type Traffic = Map<string, { requests: number; up: number; down: number }>

/** Per path, what crossed between all pools from `a` to `b` (two snapshots of every relay), per second. */
function trafficBetween(a: Traffic[], b: Traffic[], seconds: number) {
  const sum = new Map<string, { requests: number; bytes: number }>()
  b.forEach((snap, i) => {
    for (const [path, v] of snap) {
      const o = a[i].get(path) ?? { requests: 0, up: 0, down: 0 }
      const s = sum.get(path) ?? { requests: 0, bytes: 0 }
      s.requests += v.requests - o.requests
      s.bytes += v.up + v.down - o.up - o.down
      sum.set(path, s)
    }
  })
  const rows = [...sum]
    .filter(([, v]) => v.bytes > 0)
    .map(([path, v]) => ({
      path,
      perS: v.requests / seconds,
      bytesPerS: v.bytes / seconds,
      bytesPerReq: v.bytes / Math.max(1, v.requests),
    }))
    .sort((x, y) => y.bytesPerS - x.bytesPerS)
  return {
    bytesPerS: rows.reduce((n, r) => n + r.bytesPerS, 0),
    requestsPerS: rows.reduce((n, r) => n + r.perS, 0),
    rows,
  }
}

export async function runFederated() {
  const n = Number(arg("pools", "4"))
  const perPool = Number(arg("workers", "1000"))
  const streams = Number(arg("streams", "200"))
  const windowS = Number(arg("window", "20"))
  const procs = Number(arg("procs", "1"))
  const tps = Number(arg("tps", "20"))
  const per = Number(arg("per", "32"))
  const token = "fleet-bench-token-0123456789abcdef"

  // Each simulator holds its workers' sockets; each pool its workers' plus its clients' (children inherit this limit).
  const need = Math.ceil(perPool / procs) + streams + 256
  if (lib.openFilesLimit() < need)
    throw new Error(
      `ulimit -n is ${lib.openFilesLimit()}; ${n} × ${perPool} workers need ≥ ${need}: run \`ulimit -n 65536\` first`,
    )

  const relays: PeerRelay[] = []
  const ports: number[] = []
  for (let i = 0; i < n; i++) {
    ports.push(freePort())
    const r = new PeerRelay(ports[i])
    await r.start()
    relays.push(r)
  }
  const names = Array.from({ length: n }, (_, i) => `fleet-${String.fromCharCode(97 + i)}`)
  const bootT0 = performance.now()
  const pools: FedPool[] = await Promise.all(
    names.map((name, i) =>
      startFedPool({
        name,
        port: ports[i],
        env: {
          POOL_URL: `http://127.0.0.1:${relays[i].port}`,
          CELLULE_WORKER_TOKEN: token,
          LOG_LEVEL: "warn",
          CELLULE_QUEUE_TIMEOUT_MS: "600000",
          CELLULE_TTFT_TRACE: "true",
          // The production intervals, not the tests' fast ones: the federation's cost as deployed.
          CELLULE_FED_GOSSIP_MS: "1000",
          CELLULE_FED_ANTI_ENTROPY_MS: "30000",
          CELLULE_FED_PROBE_MS: "10000",
          CELLULE_KEY_USAGE_SYNC_MS: "2000",
        },
      }),
    ),
  )
  const bootS = (performance.now() - bootT0) / 1000
  await bondAll(pools, fetch, (_from, to) => `http://127.0.0.1:${relays[pools.indexOf(to)].port}`)
  const bootHwm = pools.map((p) => lib.rssMb(p.proc.pid).hwm)

  const pids = pools.map((p) => p.proc.pid)
  /** Per pool: CPU of the pool process in cores over `seconds` (its PGlite database runs inside it). */
  const cpuOver = async (seconds: number) => {
    const t0 = pids.map((p) => lib.cpuTicks(p))
    const w0 = performance.now()
    await Bun.sleep(seconds * 1000)
    const wall = (performance.now() - w0) / 1000
    return pids.map((p, i) => (lib.cpuTicks(p) - t0[i]) / lib.HZ / wall)
  }
  const snaps = () => relays.map((r) => r.snapshot())
  const load = () => readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ")

  // Phase 0: federated, no workers.
  await Bun.sleep(5000)
  let s0 = snaps()
  const cpu0 = await cpuOver(windowS)
  const fed0 = trafficBetween(s0, snaps(), windowS)
  const rss0 = pids.map((p) => lib.rssMb(p).rss)
  const load0 = load()

  // Join: each pool gets its own simulators.
  const joinT0 = performance.now()
  const sims: lib.Sim[][] = pools.map((p, i) =>
    Array.from({ length: procs }, (_, k) =>
      lib.sim(
        p.url,
        token,
        `p${i}s${k}`,
        Math.floor(perPool / procs) + (k < perPool % procs ? 1 : 0),
        1,
        tps,
        per,
        "fleet",
      ),
    ),
  )
  const ready = await Promise.race([
    Promise.all(sims.flat().map((s) => s.wait(/^ready /))).then(() => true),
    Bun.sleep(300_000).then(() => false),
  ])
  const joinS = (performance.now() - joinT0) / 1000
  if (!ready) {
    const st = await Promise.all(sims.map((ps) => Promise.all(ps.map(lib.simStats))))
    // What the pools said, and whether they are still alive: the first thing that broke, not a guess.
    for (const p of pools)
      console.log(
        `--- ${p.name}: exit ${p.proc.exitCode ?? "running"} signal ${p.proc.signalCode ?? "none"}, RSS ${f(lib.rssMb(p.proc.pid).rss, 0)} MB; stderr tail:\n${p.stderr().slice(-3000)}\n--- stdout tail:\n${p.stdout().slice(-2000)}`,
      )
    console.log(
      `broke at join: welcomed per pool ${st.map((ps) => ps.reduce((a, s) => a + s.welcomed, 0)).join(", ")} of ${perPool} in 300 s; closes ${JSON.stringify(st.map((ps) => ps.map((s) => s.closeCodes)))}`,
    )
    await cleanupAll()
    return
  }
  await Bun.sleep(12_000)

  // Phase 1: the fleet idle (heartbeats only).
  const hb = async () =>
    (await Promise.all(sims.map((ps) => Promise.all(ps.map(lib.simStats))))).map((ps) =>
      ps.reduce((a, s) => ({ heartbeats: a.heartbeats + s.heartbeats, closed: a.closed + s.closed }), {
        heartbeats: 0,
        closed: 0,
      }),
    )
  const hb0 = await hb()
  s0 = snaps()
  const cpu1 = await cpuOver(windowS)
  const fed1 = trafficBetween(s0, snaps(), windowS)
  const hb1 = await hb()
  const rss1 = pids.map((p) => lib.rssMb(p).rss)
  const load1 = load()

  // Phase 2: streams spread over the pools (client i → pool i mod N).
  s0 = snaps()
  const cpu2P = cpuOver(windowS)
  const perPoolClients = await Promise.all(
    pools.map((p, i) =>
      lib.clients(() => p.url, Math.floor(streams / n) + (i < streams % n ? 1 : 0), windowS, "fleet", per),
    ),
  )
  const cpu2 = await cpu2P
  const fed2 = trafficBetween(s0, snaps(), windowS)
  const rss2 = pids.map((p) => lib.rssMb(p))
  const hb2 = await hb()
  const load2 = load()

  // Phase 3: forwarding. 8 workers of a model only pool 1 serves; clients ask the other pools for it.
  const fwdWindow = Math.max(10, Math.floor(windowS / 2))
  const only = lib.sim(pools[0].url, token, "only", 8, 4, tps, per, "fleet-only-a")
  await only.wait(/^ready /)
  await Bun.sleep(2000)
  s0 = snaps()
  const fwdStreams = Math.max(n - 1, Math.floor(streams / 10))
  const fwd = await lib.clients((c) => pools[1 + (c % (n - 1))].url, fwdStreams, fwdWindow, "fleet-only-a", per)
  const fed3 = trafficBetween(s0, snaps(), fwdWindow)
  const load3 = load()
  await cleanupAll()

  const pTable = pools
    .map((p, i) => {
      const c = perPoolClients[i]
      const dec = c.stamps.filter((s) => s.submit && s.submitted).map((s) => s.submitted! - s.submit!)
      const inPool = c.stamps.filter((s) => s.recv && s.sse).map((s) => (s.sse! - s.recv!) / 1000)
      const hbPerS = (hb1[i].heartbeats - hb0[i].heartbeats) / windowS
      return `| ${p.name} | ${perPool} | ${f(hbPerS, 0)} | ${f(cpu0[i], 3)} | ${f(cpu1[i], 3)} | ${f(cpu2[i], 2)} | ${f(rss0[i], 0)} / ${f(rss1[i], 0)} / ${f(rss2[i].rss, 0)} (peak ${f(rss2[i].hwm, 0)}, boot ${f(bootHwm[i], 0)}) | ${f(pct(c.ttft, 50))} / ${f(pct(c.ttft, 99))} | ${f(pct(inPool, 50), 2)} / ${f(pct(inPool, 99), 2)} | ${f(pct(dec, 50), 0)} / ${f(pct(dec, 99), 0)} | ${f(c.tokensPerS, 0)} | ${c.errors}${c.firstErrors.length ? ` (${c.firstErrors[0]})` : ""}, closes ${hb2[i].closed} |`
    })
    .join("\n")
  const fedRow = (phase: string, t: ReturnType<typeof trafficBetween>, l: string) =>
    `| ${phase} | ${f(t.bytesPerS / 1024, 1)} | ${f(t.requestsPerS, 1)} | ${t.rows
      .slice(0, 4)
      .map((r) => `${r.path} ${f(r.perS, 1)}/s × ${f(r.bytesPerReq / 1024, 1)} KB`)
      .join("; ")} | ${l} |`
  const fwdDec = fwd.stamps.filter((s) => s.submit && s.submitted).map((s) => s.submitted! - s.submit!)
  console.log(`
bench/fleet --pools ${n} — ${new Date().toISOString().slice(0, 16)}Z, ${n} real \`cellule pool\` processes (each its own embedded database) bonded at trust 3,
production federation intervals, ${perPool} simulated workers per pool (${n * perPool} in all; ${procs} simulator process(es) per pool, each joined to one pool),
${streams} client streams spread round-robin × ${per} tokens at ${tps} tok/s, windows of ${windowS} s; boot of the ${n} pools ${f(bootS, 0)} s, join ${f(joinS, 1)} s.
Pools, simulators and clients share this machine's ${navigator.hardwareConcurrency} cores (with other jobs). Pool CPU in cores from /proc/<pid>/stat (the embedded PGlite database runs inside the pool process).
Decision = the pool's own stamps submit → submitted (scheduler pick + job frame sent), µs; in-pool TTFT = recv → first SSE chunk, ms.

| pool | workers | heartbeats/s | CPU empty | CPU fleet idle | CPU under load | RSS MB empty / idle / load | TTFT p50 / p99 ms (client) | in-pool TTFT p50 / p99 ms | decision p50 / p99 µs | tokens/s | errors, ws closes |
| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |
${pTable}

Between the pools (all links, both directions, through the counting relays):

| phase | KB/s | requests/s | top paths (rate × bytes per request) | load average |
| --- | --- | --- | --- | --- |
${fedRow("federated, no workers", fed0, load0)}
${fedRow(`${n * perPool} workers idle`, fed1, load1)}
${fedRow(`${n * perPool} workers, ${streams} streams`, fed2, load2)}
${fedRow(`forwarding (${fwdStreams} streams to pools 2–${n} for a model only pool 1 serves)`, fed3, load3)}

forward phase: ${f(fwd.tokensPerS, 0)} tok/s delivered through forwarding, TTFT p50 / p99 ${f(pct(fwd.ttft, 50))} / ${f(pct(fwd.ttft, 99))} ms, errors ${fwd.errors}${fwd.firstErrors.length ? ` (${fwd.firstErrors[0]})` : ""}, decisions stamped ${fwdDec.length}
`)
}
