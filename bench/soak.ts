// bench/soak — does the pool's memory stay flat under steady traffic? A real `cellule pool` (embedded
// database), simulated workers (bench/_fleet-sim.ts: the real worker protocol, synthetic tokens) and
// `--clients` clients looping streamed chat completions (plus a `GET /v1/models` between answers) for
// `--minutes`. RSS (VmRSS, /proc) sampled every minute; slope by least squares over all samples and over
// the second half (the first minutes include the collector warming up), reported in MB/h.
//   bun bench/soak.ts [--minutes 30] [--warmup 60] [--workers 50] [--slots 4] [--clients 16] [--tps 50] [--per 32]
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { arg } from "./_args.ts"
import { BUN, ROOT, cleanupAll, onCleanup, startPool } from "../test/support/proc.ts"

const minutes = Number(arg("minutes", "30"))
const workers = Number(arg("workers", "50"))
const slots = Number(arg("slots", "4"))
const clientsN = Number(arg("clients", "16"))
const tps = Number(arg("tps", "50"))
const per = Number(arg("per", "32"))
const warmupS = Number(arg("warmup", "60"))
const token = "soak-bench-token-0123456789abcdef"
const HZ = 100

const pool = await startPool({ env: { CELLULE_WORKER_TOKEN: token, LOG_LEVEL: "warn" } })
const pid = pool.proc.pid
const status = () => readFileSync(`/proc/${pid}/status`, "utf8")
const kb = (k: string) => Number(status().match(new RegExp(`${k}:\\s+(\\d+)`))?.[1] ?? 0) / 1024
const cpuTicks = () => {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8")
  const rest = f.slice(f.lastIndexOf(")") + 2).split(" ")
  return Number(rest[11]) + Number(rest[12])
}

const sim = Bun.spawn(
  [
    BUN,
    join(ROOT, "bench/_fleet-sim.ts"),
    pool.url,
    token,
    "soak",
    String(workers),
    String(slots),
    String(tps),
    String(per),
    "soak",
  ],
  { stdin: "pipe", stdout: "pipe", stderr: "inherit" },
)
onCleanup(() => void sim.kill())
{
  // wait for "ready N"
  let buf = ""
  const reader = (sim.stdout as ReadableStream<Uint8Array>).getReader()
  while (!/^ready /m.test(buf)) {
    const { value, done } = await reader.read()
    if (done) throw new Error(`simulator exited: ${buf}`)
    buf += new TextDecoder().decode(value)
  }
  reader.releaseLock()
}

let requests = 0
let errors = 0
let tokens = 0
const firstErrors: string[] = []
let stop = false
const body = JSON.stringify({
  model: "soak",
  stream: true,
  max_tokens: per,
  messages: [{ role: "user", content: "hi" }],
})
async function client() {
  while (!stop) {
    try {
      const r = await fetch(`${pool.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      })
      if (!r.ok) throw new Error(`${r.status} ${(await r.text()).slice(0, 120)}`)
      const text = await r.text()
      let at = text.indexOf('"content":"t')
      while (at >= 0) {
        tokens++
        at = text.indexOf('"content":"t', at + 10)
      }
      if (!text.includes("[DONE]")) throw new Error("stream without [DONE]")
      requests++
      const m = await fetch(`${pool.url}/v1/models`)
      if (!m.ok) throw new Error(`models ${m.status}`)
      await m.arrayBuffer()
    } catch (e) {
      errors++
      if (firstErrors.length < 3) firstErrors.push((e as Error).message)
      await Bun.sleep(200)
    }
  }
}

type Sample = { minute: number; rss: number; hwm: number; requests: number; errors: number; tokS: number; cpu: number }
const samples: Sample[] = []
const running = Array.from({ length: clientsN }, client)
let last = { t: performance.now(), requests: 0, errors: 0, tokens: 0, cpu: cpuTicks() }
const sample = (minute: number) => {
  const now = { t: performance.now(), requests, errors, tokens, cpu: cpuTicks() }
  const s = (now.t - last.t) / 1000
  samples.push({
    minute,
    rss: kb("VmRSS"),
    hwm: kb("VmHWM"),
    requests: now.requests - last.requests,
    errors: now.errors - last.errors,
    tokS: (now.tokens - last.tokens) / s,
    cpu: (now.cpu - last.cpu) / HZ / s,
  })
  last = now
  const x = samples.at(-1) as Sample
  console.error(`minute ${minute}: rss ${x.rss.toFixed(1)} MB, ${x.requests} requests, ${x.errors} errors`)
}
// Sample 0 after a warm-up with traffic: a first boot (initdb, migrations) leaves memory the collector
// and the allocator return over the first minute, which is not what a soak looks for.
await Bun.sleep(warmupS * 1000)
last = { t: performance.now(), requests, errors, tokens, cpu: cpuTicks() }
sample(0)
for (let m = 1; m <= minutes; m++) {
  await Bun.sleep(60_000)
  sample(m)
}
stop = true
await Promise.all(running)
sim.kill()
await pool.kill("SIGTERM")
await cleanupAll()

/** Least-squares slope of RSS against time, MB per hour. */
const slope = (xs: Sample[]) => {
  if (xs.length < 2) return Number.NaN
  const mx = xs.reduce((a, x) => a + x.minute, 0) / xs.length
  const my = xs.reduce((a, x) => a + x.rss, 0) / xs.length
  const num = xs.reduce((a, x) => a + (x.minute - mx) * (x.rss - my), 0)
  const den = xs.reduce((a, x) => a + (x.minute - mx) ** 2, 0)
  return (num / den) * 60
}
const traffic = samples.slice(1)
const half = samples.slice(Math.floor(samples.length / 2))
const f = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : "—")
console.log(`
bench/soak — ${new Date().toISOString().slice(0, 16)}Z, ${minutes} min after ${warmupS} s of warm-up traffic, ${workers} simulated workers × ${slots} slots, ${clientsN} clients (streamed, ${per} tokens at ${tps} tok/s per job)
| minute | RSS MB | peak MB | requests | errors | tokens/s | pool CPU (cores) |
| --- | --- | --- | --- | --- | --- | --- |
${samples.map((x) => `| ${x.minute} | ${f(x.rss)} | ${f(x.hwm)} | ${x.minute ? x.requests : "—"} | ${x.minute ? x.errors : "—"} | ${x.minute ? f(x.tokS, 0) : "—"} | ${x.minute ? f(x.cpu, 2) : "—"} |`).join("\n")}

RSS slope: ${f(slope(samples))} MB/h over all samples, ${f(slope(half))} MB/h over the second half (minutes ${half[0]?.minute}–${samples.at(-1)?.minute}); requests ${traffic.reduce((a, x) => a + x.requests, 0)}, errors ${traffic.reduce((a, x) => a + x.errors, 0)}${firstErrors.length ? ` (${firstErrors.join("; ")})` : ""}
`)
process.exit(0)
