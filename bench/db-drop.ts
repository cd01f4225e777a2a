// bench/db-drop — the pool's embedded database losing its connection in the middle of a join storm.
// One trial: open the database as a pool does (core/db/client.ts openDatabase), start `--claims` worker-id
// claims at once (core/workers/ownership.ts, one transaction each, as the hub admits joining workers),
// then break the connection once, after `--after` ms: `throw` makes PGlite's execution of one protocol
// message throw (pglite-socket then closes that client's socket), `server-socket` destroys the server's
// end of the socket. Counts what the pool would see: claims that failed (each one worker closed with
// 1011), an uncaught exception or unhandled rejection (Bun ends the process: every worker 1006), claims
// that never settle (the database lost: every later join waits).
//   bun bench/db-drop.ts [--mode throw|server-socket] [--trials 6] [--claims 2000] [--after 200]
// Each trial runs in its own process (`--one` runs one trial and prints its result as JSON).
import { PGlite } from "@electric-sql/pglite"
import { PGLiteSocketHandler } from "@electric-sql/pglite-socket"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { arg } from "./_args.ts"
import { BUN } from "../test/support/proc.ts"

const mode = arg("mode", "throw")
const claimsN = Number(arg("claims", "2000"))
const afterMs = Number(arg("after", "200"))
const settleS = 15

type Result = { ok: number; failed: number; escaped: string[]; pending: number; errors: string[] }

async function one(): Promise<Result> {
  const escaped: string[] = []
  process.on("uncaughtException", (e) => void escaped.push(`uncaught: ${(e as Error).message}`))
  process.on("unhandledRejection", (e) => void escaped.push(`unhandled rejection: ${(e as Error)?.message}`))
  // The fault: reach the socket handlers and PGlite the way the pool builds them (core/db/embedded.ts).
  const handlers = new Set<{ socket?: { destroy(e?: Error): void } | null }>()
  const attach = PGLiteSocketHandler.prototype.attach
  PGLiteSocketHandler.prototype.attach = function (this: never, ...a: Parameters<typeof attach>) {
    handlers.add(this)
    return attach.apply(this, a)
  }
  let fail = false
  const raw = PGlite.prototype.execProtocolRawStream
  PGlite.prototype.execProtocolRawStream = function (this: PGlite, ...a: Parameters<typeof raw>) {
    if (fail) {
      fail = false
      throw new Error("injected: PGlite failed on one protocol message")
    }
    return raw.apply(this, a)
  }
  const { openDatabase } = await import("../core/db/client.ts")
  const { claimWorkerId } = await import("../core/workers/ownership.ts")
  const { setLogLevel } = await import("../core/log.ts")
  setLogLevel("error")
  const dir = mkdtempSync(join(tmpdir(), "cellule-dbdrop-"))
  const db = await openDatabase({ dataDir: dir })
  const clock = { now: () => Date.now() }
  let ok = 0
  const errors: string[] = []
  let settled = 0
  const claims = Array.from({ length: claimsN }, (_, i) =>
    claimWorkerId(db.sql, clock, `storm-${String(i).padStart(6, "0")}`, null)
      .then(
        () => void ok++,
        (e) => void errors.push((e as Error).message.replace(/\/tmp\/\S+/, "<socket>")),
      )
      .finally(() => void settled++),
  )
  await Bun.sleep(afterMs)
  if (mode === "throw") fail = true
  else for (const h of handlers) h.socket?.destroy(new Error("injected"))
  await Promise.race([Promise.all(claims), Bun.sleep(settleS * 1000)])
  const result = { ok, failed: errors.length, escaped, pending: claimsN - settled, errors: [...new Set(errors)] }
  if (result.pending === 0) await db.close().catch(() => {})
  rmSync(dir, { recursive: true, force: true })
  return result
}

if (process.argv.includes("--one")) {
  console.log(JSON.stringify(await one()))
  process.exit(0)
}

const trials = Number(arg("trials", "6"))
const rows: string[] = []
const outcomes = { held: 0, crashed: 0, lost: 0 }
for (let t = 0; t < trials; t++) {
  // Spread the fault over the storm: a different moment each trial.
  const after = afterMs + t * 53
  const p = Bun.spawn(
    [BUN, import.meta.path, "--one", "--mode", mode, "--claims", String(claimsN), "--after", String(after)],
    { stdout: "pipe", stderr: "pipe" },
  )
  const timer = setTimeout(() => p.kill(), (settleS + 60) * 1000)
  const out = await new Response(p.stdout).text()
  await p.exited
  clearTimeout(timer)
  const line = out.split("\n").find((l) => l.startsWith("{"))
  const r = line ? (JSON.parse(line) as Result) : undefined
  const outcome = !r ? "no result" : r.escaped.length ? "crashed" : r.pending ? "lost" : "held"
  if (outcome in outcomes) outcomes[outcome as keyof typeof outcomes]++
  rows.push(
    `| ${t + 1} | ${after} | ${outcome} | ${r ? `${r.ok} / ${r.failed} / ${r.pending}` : "—"} | ${r ? [...r.escaped, ...r.errors].join("; ").slice(0, 160) : "—"} |`,
  )
  console.error(rows.at(-1))
}
console.log(`
bench/db-drop — ${new Date().toISOString()}, mode ${mode}, ${claimsN} claims at once, load ${(await Bun.file("/proc/loadavg").text()).split(" ").slice(0, 3).join(" ")}
held ${outcomes.held}, crashed ${outcomes.crashed} (uncaught exception / unhandled rejection: the pool process ends), lost ${outcomes.lost} (claims unsettled after ${settleS} s: the database no longer answers)

| trial | fault after ms | outcome | claims ok / failed / unsettled | what escaped, errors |
| --- | --- | --- | --- | --- |
${rows.join("\n")}
`)
