// bench/ttft — what the pool adds to the first token. Every side gets the same sequential streamed chat
// completions (plain fetch, API key), interleaved one request per side in a rotating order, so the
// machine's noise lands on every side alike:
//   - bare: a bare Bun SSE server (bench/_bare-sse.ts) answering at once — the floor of the loopback
//     HTTP round trip and of the client; "added" is a side's percentile minus bare's.
//   - pool A, pool B: two identical `cellule pool` processes of this tree (B is the control), each with
//     one simulated worker (bench/_fleet-sim.ts: the real protocol, its first token sent as soon as the
//     job frame arrives), so the pool's whole path is measured: body parse, admission and key lookup,
//     queue, job frame, the worker hop, token frame, SSE.
//   - before: with --before DIR, the same pool from another checkout (e.g. main), for before/after in
//     one run.
//   - --trace: pools A and B run with CELLULE_TTFT_TRACE=true (core/metrics/ttft-trace.ts): each request's
//     stages are stamped in the pool, and a second table says where the time goes (per stage, µs).
//   - --profile DIR: pool A runs under Bun's sampling profiler (--cpu-prof-md, 100 µs), written to DIR on exit.
//   bun bench/ttft.ts [--requests 400] [--warmup 30] [--before DIR] [--tokens 4] [--anonymous] [--trace] [--profile DIR]
import { join } from "node:path"
import postgres from "postgres"
import { arg } from "./_args.ts"
import { BUN, ROOT, cleanupAll, onCleanup, spawnProc, tempDir, testSetupAnswers } from "../test/support/proc.ts"
import { runningEmbedded } from "../core/db/embedded.ts"
import { createAdmin } from "../core/auth/admins.ts"
import { TTFT_STAGES, micros, type TtftStamps } from "../core/metrics/ttft-trace.ts"

const requests = Number(arg("requests", "400"))
// Requests per side before measuring. 30 warms connections and caches; a pool in service has run its
// request path thousands of times, so JSC has optimised it (in process: 132 µs cold, 41 µs warm for the
// hooks and validation): --warmup 3000 measures that steady state.
const warmup = Number(arg("warmup", "30"))
const before = arg("before", "")
const tokens = Number(arg("tokens", "4"))
const anonymous = process.argv.includes("--anonymous")
const trace = process.argv.includes("--trace")
const profile = arg("profile", "")
const token = "ttft-bench-token-0123456789abcdef"
const adminEmail = "bench@example.local"

type Side = { name: string; url: string; key?: string }

async function pool(name: string, slug: string, root: string, traced = false, prof = ""): Promise<Side> {
  const dataDir = tempDir()
  const profArgs = prof ? ["--cpu-prof-md", `--cpu-prof-dir=${prof}`, "--cpu-prof-interval=100"] : []
  const p = spawnProc(
    [BUN, ...profArgs, join(root, "cmd/main.ts"), "pool", "--port", "0", "--host", "127.0.0.1", "--data-dir", dataDir],
    {
      env: {
        POOL_NAME: `ttft-${slug}`,
        CELLULE_SETUP_ANSWERS: testSetupAnswers(),
        CELLULE_WORKER_TOKEN: token,
        CELLULE_ANONYMOUS_ACCESS: anonymous ? "true" : "false",
        CELLULE_TRUSTED_NETWORKS: "127.0.0.1/32",
        LOG_LEVEL: "warn",
        ...(traced ? { CELLULE_TTFT_TRACE: "true" } : {}),
      },
      cwd: root,
    },
  )
  // Waits for the exit: the profiler writes its file then, and the data dir goes after.
  onCleanup(async () => void (await p.kill()))
  const url = (await p.waitFor(/cellule pool ready (http:\/\/\S+)/, 180_000))[1]
  const sim = Bun.spawn(
    [BUN, join(ROOT, "bench/_fleet-sim.ts"), url, token, slug, "1", "4", "0", String(tokens), "ttft"],
    {
      stdin: "pipe",
      stdout: "pipe",
      stderr: "inherit",
    },
  )
  onCleanup(() => void sim.kill())
  const reader = (sim.stdout as ReadableStream<Uint8Array>).getReader()
  for (let buf = ""; !/^ready /m.test(buf); ) {
    const { value, done } = await reader.read()
    if (done) throw new Error(`simulator exited: ${buf}`)
    buf += new TextDecoder().decode(value)
  }
  reader.releaseLock()
  let key: string | undefined
  if (!anonymous) {
    const sql = postgres({ ...runningEmbedded(dataDir)!, max: 1 })
    await createAdmin(sql as never, adminEmail, "a long admin password for the bench")
    await sql.end()
    const r = await fetch(`${url}/v1/admin/keys`, {
      method: "POST",
      headers: { "x-cellule-user": adminEmail, "content-type": "application/json" },
      body: JSON.stringify({ name: "bench" }),
    })
    if (r.status !== 201) throw new Error(`key: ${r.status} ${await r.text()}`)
    key = ((await r.json()) as { key: string }).key
  }
  console.error(`${name}: ${url}`)
  return { name, url, key }
}

const bare = spawnProc([BUN, join(ROOT, "bench/_bare-sse.ts")])
onCleanup(() => void bare.proc.kill())
const sides: Side[] = [{ name: "bare (floor)", url: (await bare.waitFor(/ready (http:\/\/\S+)/))[1] }]
if (before) sides.push(await pool("before", "before", before))
sides.push(await pool("A", "a", ROOT, trace, profile), await pool("B (control)", "b", ROOT, trace))

const body = JSON.stringify({
  model: "ttft",
  stream: true,
  max_tokens: tokens,
  messages: [
    { role: "system", content: "You are a helpful assistant." },
    { role: "user", content: "Say hello in four words." },
  ],
})
// Per traced request: the pool's stamps plus the client's send ("client") and first-token ("first") times,
// all on the host's monotonic clock in µs.
type Stamps = TtftStamps & { client?: number; first?: number }
const traces: Stamps[][] = []
async function once(s: Side, k: number): Promise<number> {
  const headers: Record<string, string> = { "content-type": "application/json" }
  if (s.key) headers.authorization = `Bearer ${s.key}`
  const client = micros()
  const t0 = performance.now()
  const r = await fetch(`${s.url}/v1/chat/completions`, { method: "POST", headers, body })
  if (!r.ok) throw new Error(`${s.name}: ${r.status} ${await r.text()}`)
  const reader = (r.body as ReadableStream<Uint8Array>).getReader()
  const dec = new TextDecoder()
  let text = ""
  let first = 0
  let firstAt = 0
  for (;;) {
    const { value, done } = await reader.read()
    if (done) break
    text += dec.decode(value, { stream: true })
    if (!first && text.includes('"content":"t')) {
      first = performance.now() - t0
      firstAt = micros()
    }
  }
  if (!first || !text.includes("[DONE]")) throw new Error(`${s.name}: no token or no [DONE]: ${text.slice(0, 200)}`)
  const m = text.match(/^: ttft-trace (\{.*\})$/m)
  if (m && k >= 0) {
    traces[k] ??= []
    traces[k].push({ ...(JSON.parse(m[1]) as TtftStamps), client, first: firstAt })
  }
  return first
}

// Warm-up: JIT, connection pools, key caches; sides interleaved so each gets the same.
for (let i = 0; i < warmup; i++) for (const s of sides) await once(s, -1)
const ttft: number[][] = sides.map(() => [])
for (let i = 0; i < requests; i++) {
  for (let k = 0; k < sides.length; k++) {
    const j = (i + k) % sides.length
    ttft[j].push(await once(sides[j], j))
  }
}
await cleanupAll()

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]
}
// Spread: the p50 of each fifth of the run (consecutive blocks), min–max.
const blocks = (xs: number[]) => {
  const n = Math.floor(xs.length / 5)
  return Array.from({ length: 5 }, (_, b) => pct(xs.slice(b * n, (b + 1) * n), 50))
}
const f = (x: number) => x.toFixed(2)
const b50 = pct(ttft[0], 50)
const b95 = pct(ttft[0], 95)
const b99 = pct(ttft[0], 99)
console.log(`
bench/ttft — ${new Date().toISOString().slice(0, 16)}Z, ${requests} streamed requests per side after ${warmup} of warm-up (interleaved, rotating order), ${anonymous ? "anonymous" : "API key"}, ${tokens} tokens, load ${(await Bun.file("/proc/loadavg").text()).split(" ").slice(0, 3).join(" ")}
| side | TTFT p50 ms | p95 ms | p99 ms | p50 of each fifth (min–max) | added p50 ms | added p95 ms | added p99 ms |
| --- | --- | --- | --- | --- | --- | --- | --- |
${sides
  .map((s, i) => {
    const xs = ttft[i]
    const bl = blocks(xs)
    const added = i === 0 ? "— | — | —" : `${f(pct(xs, 50) - b50)} | ${f(pct(xs, 95) - b95)} | ${f(pct(xs, 99) - b99)}`
    return `| ${s.name} | ${f(pct(xs, 50))} | ${f(pct(xs, 95))} | ${f(pct(xs, 99))} | ${f(Math.min(...bl))}–${f(Math.max(...bl))} | ${added} |`
  })
  .join("\n")}
`)
// Where the time goes: the delta between consecutive stamps, per traced side (p50 and p95 over requests).
const STEPS: [string, keyof Stamps, keyof Stamps, string][] = [
  ["routing + hooks + body", "recv", "handler", "Elysia: global hooks, routing, body read + JSON parse, validation"],
  ["admission", "handler", "admitted", "API key lookup (cache), limits"],
  ["job build", "admitted", "submit", "guidance rules, messages, parameters"],
  ["scheduler + job frame", "submit", "submitted", "submit, pick, job frame JSON + WebSocket send"],
  ["worker hop", "submitted", "token", "worker wakes, answers; token frame parsed by the pool"],
  ["token → SSE", "token", "sse", "filter, chunk JSON, enqueue"],
  ["(response head)", "submitted", "response", "afterHandle, headers, request log: overlaps the worker hop"],
]
for (let k = 1; k < sides.length; k++) {
  const ts = (traces[k] ?? []).filter((t) => TTFT_STAGES.every((st) => t[st] !== undefined))
  if (!ts.length) continue
  const rows = STEPS.map(([label, a, b, what]) => {
    const d = ts.map((t) => (t[b] as number) - (t[a] as number))
    return `| ${label} | ${pct(d, 50)} | ${pct(d, 95)} | ${what} |`
  })
  const total = ts.map((t) => (t.first as number) - (t.client as number))
  // process.hrtime is per process in Bun (not one host clock): only differences within one process count.
  const inPool = ts.map((t) => (t.sse as number) - (t.recv as number))
  const outside = total.map((x, i) => x - inPool[i])
  console.log(`where the time goes — ${sides[k].name}, ${ts.length} traced requests (µs)
| stage | p50 µs | p95 µs | what |
| --- | --- | --- | --- |
${rows.join("\n")}
| in the pool (recv → sse) | ${pct(inPool, 50)} | ${pct(inPool, 95)} | the rows above but the head |
| outside the pool | ${pct(outside, 50)} | ${pct(outside, 95)} | client fetch, loopback both ways, Bun's HTTP parse and stream write (all of bare's TTFT) |
| total (client send → first token) | ${pct(total, 50)} | ${pct(total, 95)} | |
`)
}
process.exit(0)
