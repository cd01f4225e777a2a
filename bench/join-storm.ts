// bench/join-storm — one pool, `--workers` simulated workers joining at once (bench/_fleet-sim.ts,
// the real protocol; 100 handshakes every 20 ms per simulator): does every worker get its welcome, and
// does the pool stay up? Prints the join time, the close codes the simulators saw and, when the join
// breaks, the pool's exit status, RSS and log tail. Load the machine first to reproduce a starved pool.
//   ulimit -n 20000; bun bench/join-storm.ts [--workers 5000] [--procs 1] [--timeout 240]
import { arg } from "./_args.ts"
import * as lib from "./_fleet-lib.ts"
import { cleanupAll, startPool } from "../test/support/proc.ts"

const workers = Number(arg("workers", "5000"))
const procs = Number(arg("procs", "1"))
const timeoutS = Number(arg("timeout", "240"))
const token = "join-storm-token-0123456789abcdef"
if (lib.openFilesLimit() < workers + 200)
  throw new Error(`ulimit -n is ${lib.openFilesLimit()}: raise it above ${workers + 200}`)

const t0 = performance.now()
const pool = await startPool({ env: { CELLULE_WORKER_TOKEN: token, LOG_LEVEL: "info" } })
console.log(`pool up in ${((performance.now() - t0) / 1000).toFixed(1)} s, pid ${pool.proc.pid}`)
const j0 = performance.now()
const sims = Array.from({ length: procs }, (_, k) =>
  lib.sim(pool.url, token, `js${k}`, Math.floor(workers / procs) + (k < workers % procs ? 1 : 0), 1, 20, 32, "fleet"),
)
const ready = await Promise.race([
  Promise.all(sims.map((s) => s.wait(/^ready /))).then(() => true),
  pool.exited.then(() => false),
  Bun.sleep(timeoutS * 1000).then(() => false),
])
const joinS = (performance.now() - j0) / 1000
await Bun.sleep(ready ? 5000 : 2000)
const st = await Promise.race([Promise.all(sims.map(lib.simStats)), Bun.sleep(10_000).then(() => [])])
const alive = pool.proc.exitCode === null && pool.proc.signalCode === null
const mem = lib.rssMb(pool.proc.pid)
const errors = (pool.stdout() + pool.stderr())
  .split("\n")
  .filter((l) => /error|failed|warn/i.test(l) && !/ outdated: /.test(l))
console.log(
  `${new Date().toISOString()} load ${(await Bun.file("/proc/loadavg").text()).trim()}: ${ready ? "held" : "broke"}, join ${joinS.toFixed(1)} s, welcomed ${st.reduce((a, s) => a + s.welcomed, 0)} of ${workers}, closes ${JSON.stringify(st.map((s) => s.closeCodes))}, pool ${alive ? "alive" : `exit ${pool.proc.exitCode} signal ${pool.proc.signalCode}`}, RSS ${mem.rss.toFixed(0)} MB (peak ${mem.hwm.toFixed(0)})`,
)
console.log(
  `pool warnings/errors (${errors.length}):\n${errors.slice(0, 20).join("\n")}${errors.length > 20 ? `\n… ${errors.length - 20} more` : ""}`,
)
if (!ready || !alive)
  console.log(`--- pool stderr tail:\n${pool.stderr().slice(-4000)}\n--- stdout tail:\n${pool.stdout().slice(-3000)}`)
await cleanupAll()
process.exit(0)
