// bench/binary — what the compiled binary costs on disk and at start-up (issue 21, "Binary"): its size,
// `cellule --version` wall and CPU time (no asset may be touched), and the first start of `cellule pool`
// on a fresh data dir (embedded database unpacked and initialised) then a second start on the same dir.
// Binaries are compared in one run, sides alternated each round; pass one binary twice for a control.
//   bun bench/binary.ts --bin base=/tmp/cellule-main --bin control=/tmp/cellule-main --bin new=dist/cellule
//     [--version-runs 20] [--pool-runs 2]
import { statSync } from "node:fs"
import { cleanupAll, spawnProc, tempDir, TEST_POOL_ENV, testSetupAnswers } from "../test/support/proc.ts"
import { arg } from "./_args.ts"

const bins: [label: string, path: string][] = []
for (const [i, a] of process.argv.entries())
  if (a === "--bin") {
    const [label, path] = process.argv[i + 1]!.split("=") as [string, string]
    bins.push([label, path])
  }
if (!bins.length) bins.push(["dist", "dist/cellule"])
const versionRuns = Number(arg("version-runs", "20"))
const poolRuns = Number(arg("pool-runs", "2"))

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!
}
const f = (x: number, d = 1) => x.toFixed(d)

async function version(path: string): Promise<{ wallMs: number; cpuMs: number }> {
  const t0 = performance.now()
  const p = Bun.spawn([path, "--version"], { stdout: "pipe", stderr: "pipe" })
  const out = await new Response(p.stdout).text()
  await p.exited
  const wallMs = performance.now() - t0
  if (p.exitCode !== 0 || !/^\d+\.\d+\.\d+/.test(out)) throw new Error(`${path} --version: ${out}`)
  const cpu = p.resourceUsage()!.cpuTime
  return { wallMs, cpuMs: Number(cpu.user + cpu.system) / 1000 }
}

async function poolStart(path: string, dataDir: string): Promise<number> {
  const t0 = performance.now()
  const p = spawnProc([path, "pool", "--port", "0", "--host", "127.0.0.1", "--data-dir", dataDir], {
    env: { POOL_NAME: "bench-pool", ...TEST_POOL_ENV, CELLULE_SETUP_ANSWERS: testSetupAnswers(), LOG_LEVEL: "warn" },
    cwd: tempDir(),
  })
  await p.waitFor(/cellule pool ready (http:\/\/\S+)/, 300_000)
  const ms = performance.now() - t0
  await p.kill("SIGTERM")
  return ms
}

const wall = new Map(bins.map(([l]) => [l, [] as number[]]))
const cpu = new Map(bins.map(([l]) => [l, [] as number[]]))
for (const [, path] of bins) await version(path) // page cache warm for every side
for (let r = 0; r < versionRuns; r++) {
  const order = r % 2 ? [...bins].reverse() : bins
  for (const [label, path] of order) {
    const v = await version(path)
    wall.get(label)!.push(v.wallMs)
    cpu.get(label)!.push(v.cpuMs)
  }
}
const first = new Map(bins.map(([l]) => [l, [] as number[]]))
const second = new Map(bins.map(([l]) => [l, [] as number[]]))
for (let r = 0; r < poolRuns; r++) {
  const order = r % 2 ? [...bins].reverse() : bins
  for (const [label, path] of order) {
    const dir = tempDir("cellule-bench-bin-")
    first.get(label)!.push(await poolStart(path, dir))
    second.get(label)!.push(await poolStart(path, dir))
  }
}
await cleanupAll()

const header =
  "| binary | size_MB | version_wall_ms p50 [min–p90] | version_cpu_ms p50 [min–p90] | pool_first_start_s (each) | pool_second_start_s (each) |"
console.log(header)
console.log(
  `|${header
    .split("|")
    .slice(1, -1)
    .map(() => " --- ")
    .join("|")}|`,
)
for (const [label, path] of bins) {
  const w = wall.get(label)!
  const c = cpu.get(label)!
  const list = (xs: number[]) => xs.map((x) => f(x / 1000, 2)).join(", ")
  console.log(
    `| ${label} | ${f(statSync(path).size / 1e6)} | ${f(quantile(w, 0.5))} [${f(quantile(w, 0))}–${f(quantile(w, 0.9))}] | ${f(quantile(c, 0.5))} [${f(quantile(c, 0))}–${f(quantile(c, 0.9))}] | ${list(first.get(label)!)} | ${list(second.get(label)!)} |`,
  )
}
console.log(`loadavg at end: ${(await Bun.file("/proc/loadavg").text()).trim()}`)
