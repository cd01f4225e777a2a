// bench/memory — what a pool holds in memory on the embedded database: VmRSS sampled every 20 ms from
// /proc/<pid>/status during boot (first boot: initdb + migrations; second boot: same data dir), the
// peak (VmHWM) once ready, RSS idle after --idle seconds and the median (min–max) of one reading a second
// from 5 s to --idle. Each run is repeated (the control).
//   bun bench/memory.ts [--runs 2] [--idle 15] [--compiled] [--external]
// --external: the pool runs on DATABASE_URL, a PGlite socket server in this bench's process (a fresh
// database per run) standing in for an external PostgreSQL, so the pool's figures are its own without
// the embedded database (Debian's PostgreSQL has no pgvector package here).
// From the sources a first boot unpacks the pristine cluster cached under .cache/ (core/db/_pristine.ts),
// made here before the first run so no run pays for it; --compiled runs dist/cellule, which embeds it.
import { arg } from "./_args.ts"
import { rssMb } from "./_fleet-lib.ts"
import { readFileSync } from "node:fs"
import { pristineTarball } from "../core/db/_pristine.ts"
import { cleanupAll, startPool, tempDir } from "../test/support/proc.ts"
import { startSocketDatabase } from "../test/support/socket-db.ts"

const runs = Number(arg("runs", "2"))
const idleS = Number(arg("idle", "15"))
const compiled = process.argv.includes("--compiled")
const external = process.argv.includes("--external")
if (!compiled && !external) await pristineTarball()

type Row = {
  run: string
  bootS: number
  peakMb: number
  readyMb: number
  idleMb: number
  idleMedian: number
  idleMin: number
  idleMax: number
}
async function boot(run: string, dataDir: string, databaseUrl?: string): Promise<Row> {
  const t0 = performance.now()
  const env = databaseUrl ? { DATABASE_URL: databaseUrl, CELLULE_DATABASE_POOL_MAX: "1" } : {}
  const started = startPool({ dataDir, compiled, env: { LOG_LEVEL: "warn", ...env } })
  // startPool spawns synchronously inside; sample the child's status until it is ready.
  let peak = 0
  let pid = 0
  let done = false
  const p = started.then((x) => {
    done = true
    return x
  })
  while (!done) {
    await Bun.sleep(20)
    if (!pid) pid = findChild()
    if (pid) peak = Math.max(peak, rssMb(pid).hwm)
  }
  const pool = await p
  const bootS = (performance.now() - t0) / 1000
  const ready = rssMb(pool.proc.pid)
  // Sampled every second from 5 s on: the idle pool's periodic work (heartbeats, sweeps, GC) moves RSS by
  // 10-20 MB from one second to the next, so one reading at the end is not enough to compare two builds.
  const samples: number[] = []
  for (let s = 1; s <= idleS; s++) {
    await Bun.sleep(1000)
    if (s >= Math.min(5, idleS)) samples.push(rssMb(pool.proc.pid).rss)
  }
  samples.sort((a, b) => a - b)
  const idle = rssMb(pool.proc.pid)
  await pool.kill("SIGTERM")
  await pool.exited
  return {
    run,
    bootS,
    peakMb: Math.max(peak, idle.hwm),
    readyMb: ready.rss,
    idleMb: idle.rss,
    idleMedian: samples[samples.length >> 1] ?? idle.rss,
    idleMin: samples[0] ?? idle.rss,
    idleMax: samples.at(-1) ?? idle.rss,
  }
}

/** The newest child of this process (the pool being started). */
function findChild(): number {
  try {
    const kids = readFileSync(`/proc/${process.pid}/task/${process.pid}/children`, "utf8").trim().split(/\s+/)
    return Number(kids.at(-1)) || 0
  } catch {
    return 0
  }
}

const rows: Row[] = []
for (let r = 1; r <= runs; r++) {
  const dir = tempDir("cellule-mem-")
  const database = external ? await startSocketDatabase(1) : undefined
  rows.push(await boot(`${r} first boot`, dir, database?.url))
  rows.push(await boot(`${r} second boot`, dir, database?.url))
  await database?.stop()
  console.error(rows.at(-2), rows.at(-1))
}
await cleanupAll()

const f = (x: number) => x.toFixed(0)
console.log(`
bench/memory — ${new Date().toISOString().slice(0, 10)}, \`cellule pool\` (${compiled ? "dist/cellule" : "sources"}) on ${external ? "an external database (DATABASE_URL: a PGlite socket server in the bench's process)" : "the embedded database (PGlite)"}, idle = ${idleS} s after ready
| run | boot s | peak (VmHWM) MB | RSS at ready MB | RSS idle MB | idle median (min–max) MB, 5–${idleS} s |
| --- | --- | --- | --- | --- | --- |
${rows.map((x) => `| ${x.run} | ${x.bootS.toFixed(1)} | ${f(x.peakMb)} | ${f(x.readyMb)} | ${f(x.idleMb)} | ${f(x.idleMedian)} (${f(x.idleMin)}–${f(x.idleMax)}) |`).join("\n")}
targets: idle < 150 MB, peak < 300 MB
`)
process.exit(0)
