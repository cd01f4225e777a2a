// bench/entry-stub — the entries alone: `cellule proxy` and the reference nginx in front of three stub
// upstreams (bench/_stub-pool.ts, one process answering GET /v1/models at once) instead of real pools,
// so what an entry adds is not buried under a pool's own latency and noise. Same method as bench/entry:
// each entry measured interleaved with direct-to-upstream (chunks of 250), added = entry − direct per
// round, sides rotate every round, fresh entries each round. --gc-log: the proxy runs with
// BUN_JSC_logGC=1 and the bench counts its collections and their pauses (stderr of the proxy).
// --heap-mb N: a third side, the proxy with JSC's starting heap at N MB (BUN_JSC_largeHeapSize), so its
// collections are that much rarer: does the proxy's p99 follow its GC?
//   bun bench/entry-stub.ts [--rounds 5] [--light 4000] [--concurrency 16] [--gc-log] [--heap-mb 128]
import { join } from "node:path"
import { readFileSync } from "node:fs"
import { arg } from "./_args.ts"
import { startNginx } from "./entry.ts"
import { lightLoad, median, pairedLightLoad, percentile } from "../test/support/load.ts"
import { BUN, ROOT, cleanupAll, onCleanup, spawnProc, startCelluleProxy, tempDir } from "../test/support/proc.ts"

const rounds = Number(arg("rounds", "5"))
const light = Number(arg("light", "4000"))
const concurrency = Number(arg("concurrency", "16"))
const gcLog = process.argv.includes("--gc-log")
const heapMb = Number(arg("heap-mb", "0"))

const stub = spawnProc([BUN, join(ROOT, "bench/_stub-pool.ts"), "3"])
onCleanup(() => void stub.proc.kill())
const urls = (await stub.waitFor(/ready (.+)/))[1].trim().split(" ")

type Entry = "cellule" | "nginx" | "cellule-heap"
const entries: Entry[] = heapMb ? ["cellule", "nginx", "cellule-heap"] : ["cellule", "nginx"]
const added: Record<Entry, { p50: number[]; p99: number[] }> = {
  cellule: { p50: [], p99: [] },
  nginx: { p50: [], p99: [] },
  "cellule-heap": { p50: [], p99: [] },
}
const heapEnv = { BUN_JSC_largeHeapSize: String(heapMb * 1024 * 1024) }
const direct = { p50: [] as number[], p99: [] as number[] }
const gc: { side: Entry; count: number; pauseMs: number; maxMs: number; requests: number }[] = []
const load = (await Bun.file("/proc/loadavg").text()).split(" ").slice(0, 3).join(" ")

for (let r = 0; r < rounds; r++) {
  for (const side of entries.map((_, i) => entries[(i + r) % entries.length])) {
    const log = join(tempDir("cellule-proxy-log-"), "proxy.log")
    const entry =
      side === "nginx"
        ? await startNginx(urls)
        : await startCelluleProxy(
            urls,
            {
              ...(gcLog ? { BUN_JSC_logGC: "1", LOG_LEVEL: "warn" } : {}),
              ...(side === "cellule-heap" ? heapEnv : {}),
            },
            log,
          )
    await lightLoad(entry.url, 500, concurrency)
    await lightLoad(urls[0], 200, concurrency)
    const { direct: d, entry: l } = await pairedLightLoad(urls[0], entry.url, light, concurrency)
    direct.p50.push(percentile(d.latencies, 50))
    direct.p99.push(percentile(d.latencies, 99))
    added[side].p50.push(percentile(l.latencies, 50) - percentile(d.latencies, 50))
    added[side].p99.push(percentile(l.latencies, 99) - percentile(d.latencies, 99))
    await entry.kill("SIGTERM")
    if (side !== "nginx" && gcLog) {
      // JSC's GC log: one "[GC<…>: START … => EdenCollection|FullCollection … p=N.NNNms …]" line per collection.
      const text = readFileSync(log, "utf8")
      const pauses = [...text.matchAll(/: START .*? p=([\d.]+)ms/g)].map((m) => Number(m[1]))
      gc.push({
        side,
        count: pauses.length,
        pauseMs: pauses.reduce((a, b) => a + b, 0),
        maxMs: pauses.length ? Math.max(...pauses) : 0,
        requests: light + 500,
      })
    }
    console.error(
      `round ${r + 1} ${side}: added p50 ${added[side].p50.at(-1)!.toFixed(3)} ms, p99 ${added[side].p99.at(-1)!.toFixed(3)} ms (direct p50 ${direct.p50.at(-1)!.toFixed(3)}, p99 ${direct.p99.at(-1)!.toFixed(3)})`,
    )
  }
}
await cleanupAll()

const f = (xs: number[], d = 3) =>
  `${median(xs).toFixed(d)} (${Math.min(...xs).toFixed(d)}–${Math.max(...xs).toFixed(d)})`
const ratio = (k: "p50" | "p99", side: Entry = "cellule") => added[side][k].map((v, i) => v / added.nginx[k][i])
console.log(`
bench/entry-stub — ${new Date().toISOString().slice(0, 16)}Z, ${rounds} rounds × ${light} GET /v1/models at ${concurrency} in flight, stub upstreams; load before ${load}, after ${(await Bun.file("/proc/loadavg").text()).split(" ").slice(0, 3).join(" ")}; median (min–max) over rounds
| side | added p50 ms | added p99 ms |
| --- | --- | --- |
| direct (p50 / p99 itself) | ${f(direct.p50)} | ${f(direct.p99)} |
| cellule proxy | ${f(added.cellule.p50)} | ${f(added.cellule.p99)} |
| nginx | ${f(added.nginx.p50)} | ${f(added.nginx.p99)} |${heapMb ? `\n| cellule proxy, heap ${heapMb} MB | ${f(added["cellule-heap"].p50)} | ${f(added["cellule-heap"].p99)} |` : ""}

cellule / nginx, per round: p50 ${f(ratio("p50"), 2)}, p99 ${f(ratio("p99"), 2)}${heapMb ? `\ncellule heap ${heapMb} MB / nginx, per round: p50 ${f(ratio("p50", "cellule-heap"), 2)}, p99 ${f(ratio("p99", "cellule-heap"), 2)}` : ""}`)
if (gc.length)
  console.log(
    `proxy GC (BUN_JSC_logGC): ${gc.map((g) => `${g.side}: ${g.count} collections, ${g.pauseMs.toFixed(1)} ms total, max ${g.maxMs.toFixed(2)} ms / ${g.requests} requests`).join("; ")}`,
  )
process.exit(0)
