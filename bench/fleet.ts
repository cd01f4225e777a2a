// bench/fleet — how many workers one pool holds. Simulated workers (bench/_fleet-sim.ts, a few child
// processes) speak the real worker protocol to a real `cellule pool`; 200 client streams go through
// /v1/chat/completions. Per fleet size: pool CPU (cores, /proc/<pid>/stat) idle (heartbeats only) and
// under load, RSS, heartbeat cost, TTFT, tokens/s delivered; then the relay ceiling (fast workers).
// Scheduler decision time is measured on the pool's own Scheduler class in this process, same fleet.
//   bun bench/fleet.ts [--sizes 1000,5000,10000] [--streams 200] [--window 20] [--procs 2] [--tps 20] [--per 32]
import { arg } from "./_args.ts"
import * as lib from "./_fleet-lib.ts"
import { cleanupAll, startPool } from "../test/support/proc.ts"
import { Scheduler, type WorkerLink } from "../core/scheduler/scheduler.ts"
import type { WorkerMessage } from "../core/workers/protocol.ts"
import { setLogLevel } from "../core/log.ts"

setLogLevel("error")

// --pools N (N > 1): N bonded pools sharing the fleet (bench/_fleet-fed.ts); the one-pool bench below otherwise.
if (Number(arg("pools", "1")) > 1) {
  await (await import("./_fleet-fed.ts")).runFederated()
  process.exit(0)
}

const sizes = arg("sizes", "1000,5000,10000").split(",").map(Number)
const streams = Number(arg("streams", "200"))
const windowS = Number(arg("window", "20"))
const procs = Number(arg("procs", "2"))
const tps = Number(arg("tps", "20"))
const per = Number(arg("per", "32"))
const relayStreams = Number(arg("relay-streams", "64"))
const token = "fleet-bench-token-0123456789abcdef"
const HZ = lib.HZ

const pool = await startPool({
  env: { CELLULE_WORKER_TOKEN: token, LOG_LEVEL: "warn", CELLULE_QUEUE_TIMEOUT_MS: "600000" },
})
const pid = pool.proc.pid

const cpuTicks = () => lib.cpuTicks(pid)
const rssMb = () => lib.rssMb(pid)
async function cpuOver(seconds: number, during?: () => void): Promise<number> {
  const t0 = cpuTicks()
  const w0 = performance.now()
  during?.()
  await Bun.sleep(seconds * 1000)
  return (cpuTicks() - t0) / HZ / ((performance.now() - w0) / 1000)
}

type Sim = lib.Sim
const sim = (prefix: string, count: number, slots: number, simTps: number, simPer: number, model: string) =>
  lib.sim(pool.url, token, prefix, count, slots, simTps, simPer, model)
const simStats = lib.simStats
const clients = (n: number, seconds: number, model: string, maxTokens: number) =>
  lib.clients(() => pool.url, n, seconds, model, maxTokens)
const { pct, f } = lib

/** Scheduler decision time (submit → job frame sent) on the pool's Scheduler class with `n` workers. */
function decisions(n: number, samples = 2000): number[] {
  const clock = { now: () => Date.now() }
  const s = new Scheduler({ clock, maxQueue: 0, queueTimeoutMs: 60_000, heartbeatMs: 10_000 } as ConstructorParameters<
    typeof Scheduler
  >[0])
  const link: WorkerLink = { send: () => {}, close: () => {} }
  const ws = []
  for (let i = 0; i < n; i++) {
    const hello: Extract<WorkerMessage, { type: "hello" }> = {
      type: "hello",
      v: 1,
      worker_id: `dec-${String(i).padStart(6, "0")}`,
      name: `d${i}`,
      version: "x",
      hardware: { os: "linux", arch: "x64", cpu_threads: 8, ram_mb: 1 },
      models: [{ id: "m", kind: "llm", slots: 1 }],
      activity: "available",
    }
    ws.push(s.addWorker(hello, link))
  }
  const out: number[] = []
  const sink = { onToken() {}, onDone() {}, onError() {} }
  // Keep ~200 of the fleet busy (the streams), as in the load phase.
  const running: { w: (typeof ws)[number]; id: string }[] = []
  for (let i = 0; i < samples + 200; i++) {
    const t0 = performance.now()
    const job = s.submit("m", "chat", { messages: [] }, sink as never)
    const dt = performance.now() - t0
    if (i >= 200) out.push(dt)
    running.push({ w: job.worker!, id: job.id })
    if (running.length >= 200) {
      const r = running.shift()!
      s.onWorkerMessage(r.w, {
        type: "done",
        job_id: r.id,
        finish_reason: "stop",
        usage: { prompt_tokens: 1, completion_tokens: 1 },
      })
    }
  }
  s.stop()
  return out
}

const rows: string[] = []
const sims: Sim[] = []
let connected = 0
const bootRss = rssMb()
await Bun.sleep(10_000)
const idle0 = await cpuOver(windowS)
rows.push(
  `| 0 | ${f(idle0, 3)} | — | — | ${f(rssMb().rss, 0)} (boot peak ${f(bootRss.hwm, 0)}) | — | — | — | — | — | — | — |`,
)
for (const n of sizes) {
  const add = n - connected
  const t0 = performance.now()
  const batch: Sim[] = []
  for (let p = 0; p < procs; p++) {
    const count = Math.floor(add / procs) + (p < add % procs ? 1 : 0)
    batch.push(sim(`n${n}p${p}`, count, 1, tps, per, "fleet"))
  }
  const ready = await Promise.race([
    Promise.all(batch.map((s) => s.wait(/^ready /))).then(() => true),
    Bun.sleep(240_000).then(() => false),
  ])
  const joinS = (performance.now() - t0) / 1000
  sims.push(...batch)
  connected = n
  if (!ready) {
    const st = await Promise.all(batch.map(simStats))
    rows.push(
      `| ${n} | broke: only ${st.reduce((a, s) => a + s.welcomed, 0)} of ${add} new workers welcomed in 240 s, closes ${JSON.stringify(st.map((s) => s.closeCodes))} |`,
    )
    break
  }
  // Let the join storm settle and heartbeats spread over the interval.
  await Bun.sleep(12_000)
  const before = await Promise.all(sims.map(simStats))
  const idle = await cpuOver(windowS)
  const after = await Promise.all(sims.map(simStats))
  const hbPerS = (after.reduce((a, s) => a + s.heartbeats, 0) - before.reduce((a, s) => a + s.heartbeats, 0)) / windowS
  const hbUs = ((idle - idle0) * 1e6) / Math.max(1, hbPerS)
  const rssIdle = rssMb().rss
  let load = 0
  const loadP = cpuOver(windowS).then((x) => {
    load = x
  })
  const c = await clients(streams, windowS, "fleet", per)
  await loadP
  const rssLoad = rssMb()
  const closes = (await Promise.all(sims.map(simStats))).reduce((a, s) => a + s.closed, 0)
  const dec = decisions(n)
  rows.push(
    `| ${n} | ${f(idle, 3)} | ${f(hbPerS, 0)} | ${f(hbUs, 1)} | ${f(rssIdle, 0)} | ${f(load, 2)} | ${f(rssLoad.rss, 0)} | ${f(pct(c.ttft, 50))} / ${f(pct(c.ttft, 99))} | ${f(c.tokensPerS, 0)} | ${f(pct(dec, 50) * 1000, 1)} / ${f(pct(dec, 99) * 1000, 1)} | ${f(joinS, 1)} | ${c.errors}${c.firstErrors.length ? ` (${c.firstErrors[0]})` : ""}, closes ${closes} |`,
  )
  console.error(rows.at(-1))
}

// Relay ceiling: 16 fast workers × 8 slots, tokens as fast as the socket takes them, many streams.
const relay = sim("relay", 16, 8, 0, 4000, "relay")
await relay.wait(/^ready /)
await Bun.sleep(1000)
let relayCpu = 0
const self0 = process.cpuUsage()
const relayCpuP = cpuOver(windowS).then((x) => {
  relayCpu = x
})
const rc = await clients(relayStreams, windowS, "relay", 4000)
await relayCpuP
const selfCpu = process.cpuUsage(self0)
const clientCores = (selfCpu.user + selfCpu.system) / 1e6 / rc.wallS
await cleanupAll()

console.log(`
bench/fleet — ${new Date().toISOString().slice(0, 10)}, real \`cellule pool\` (embedded database), ${procs} simulator processes,
heartbeat 10 s (the default), ${streams} client streams × ${per} tokens at ${tps} tok/s per stream, windows of ${windowS} s.
Clients, simulators and pool share this machine's ${navigator.hardwareConcurrency} cores (with other jobs): TTFT includes client and simulator time.

| workers | pool CPU idle (cores) | heartbeats/s | µs CPU per heartbeat | RSS idle MB | pool CPU under load (cores) | RSS load MB | TTFT p50 / p99 ms | tokens/s delivered | decision p50 / p99 µs | join s | client errors, ws closes |
| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |
${rows.join("\n")}

relay ceiling: ${relayStreams} streams from 16 workers emitting as fast as they can: ${f(rc.tokensPerS, 0)} tok/s delivered, pool CPU ${f(relayCpu, 2)} cores → ${f(rc.tokensPerS / Math.max(relayCpu, 0.01), 0)} tok/s per pool core (target ≥ 20 000); TTFT p50 ${f(pct(rc.ttft, 50))} ms, errors ${rc.errors}; the clients (this process) used ${f(clientCores, 2)} cores
`)
process.exit(0)
