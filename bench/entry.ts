// bench/entry — the unified entry, `cellule proxy` against the reference nginx (install/nginx/
// cellule-entry.conf), in front of the same three pools: added latency and requests/s on a light
// endpoint versus direct-to-pool, and failed requests when a pool is SIGKILLed under a chat load.
// Sides alternate every round and each round starts fresh entries (nginx keeps max_fails state).
//   bun bench/entry.ts [--rounds 3] [--light 2000] [--chat 200] [--concurrency 16] [--max-tokens 8]
import { arg } from "./_args.ts"
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { tinyLlamaPath } from "../test/support/fixtures.ts"
import {
  celluleCmd,
  cleanupAll,
  ROOT,
  spawnProc,
  startWorker,
  tempDir,
  testSetupAnswers,
  TEST_POOL_ENV,
  type Proc,
} from "../test/support/proc.ts"

// ---- load generators (also used by test/integration/proxy.test.ts) ----

export function percentile(xs: number[], p: number): number {
  if (!xs.length) return NaN
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

/** Run `total` tasks with at most `concurrency` at once. */
async function pooled(total: number, concurrency: number, task: (i: number) => Promise<void>) {
  let next = 0
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) await task(next++)
    }),
  )
}

export interface LightResult {
  latencies: number[]
  failed: number
  rps: number
}

/**
 * The entry against direct-to-pool, interleaved in chunks (direct, entry, direct, entry, …) so that a
 * noisy second on this shared machine lands on both sides instead of on one of them.
 */
export async function pairedLightLoad(
  directUrl: string,
  entryUrl: string,
  total: number,
  concurrency: number,
  chunk = 250,
) {
  const direct: LightResult = { latencies: [], failed: 0, rps: 0 }
  const entry: LightResult = { latencies: [], failed: 0, rps: 0 }
  const rps: { direct: number[]; entry: number[] } = { direct: [], entry: [] }
  for (let done = 0, i = 0; done < total; done += chunk, i++) {
    const n = Math.min(chunk, total - done)
    for (const side of i % 2 ? (["entry", "direct"] as const) : (["direct", "entry"] as const)) {
      const r = await lightLoad(side === "direct" ? directUrl : entryUrl, n, concurrency)
      const into = side === "direct" ? direct : entry
      into.latencies.push(...r.latencies)
      into.failed += r.failed
      rps[side].push(r.rps)
    }
  }
  direct.rps = median(rps.direct)
  entry.rps = median(rps.entry)
  return { direct, entry }
}

/** GET /v1/models `total` times: what the entry itself costs, generation aside. */
export async function lightLoad(url: string, total: number, concurrency: number): Promise<LightResult> {
  const latencies: number[] = []
  let failed = 0
  const t0 = performance.now()
  await pooled(total, concurrency, async () => {
    const s = performance.now()
    try {
      const res = await fetch(`${url}/v1/models`)
      await res.arrayBuffer()
      if (res.ok) latencies.push(performance.now() - s)
      else failed++
    } catch {
      failed++
    }
  })
  return { latencies, failed, rps: (total / (performance.now() - t0)) * 1000 }
}

export type Outcome = "ok" | "failed" | "cut"

export interface ChatResult {
  ok: number
  /** Requests that got no usable answer and whose stream (if any) never started. */
  failed: number
  /** Streams that had started (status 200 and bytes received) and were cut before [DONE]. */
  cut: number
  failures: string[]
  latencies: number[]
  wallMs: number
}

/** One chat completion; even requests stream. A cut stream is told apart from a request that failed. */
export async function chatOnce(url: string, i: number, maxTokens: number): Promise<{ outcome: Outcome; why?: string }> {
  const stream = i % 2 === 0
  let res: Response
  try {
    res = await fetch(`${url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        model: "tiny",
        messages: [{ role: "user", content: `request ${i}: say something` }],
        max_tokens: maxTokens,
        stream,
        seed: i,
      }),
    })
  } catch (e) {
    return { outcome: "failed", why: `#${i} ${stream ? "stream" : "plain"}: ${(e as Error).message}` }
  }
  if (!stream) {
    const text = await res.text().catch((e) => `read error ${(e as Error).message}`)
    if (res.status === 200 && text.includes('"choices"')) return { outcome: "ok" }
    return { outcome: "failed", why: `#${i} plain: ${res.status} ${text.slice(0, 160)}` }
  }
  if (res.status !== 200)
    return { outcome: "failed", why: `#${i} stream: ${res.status} ${(await res.text().catch(() => "")).slice(0, 160)}` }
  let body = ""
  try {
    const dec = new TextDecoder()
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>)
      body += dec.decode(chunk, { stream: true })
  } catch (e) {
    return {
      outcome: body.length ? "cut" : "failed",
      why: `#${i} stream cut after ${body.length} bytes: ${(e as Error).message}`,
    }
  }
  if (!body.includes("data: [DONE]"))
    return { outcome: body.length ? "cut" : "failed", why: `#${i} stream ended without [DONE]` }
  if (body.includes('"error"'))
    return {
      outcome: "failed",
      why: `#${i} stream error event: ${body.slice(body.indexOf('"error"'), body.indexOf('"error"') + 160)}`,
    }
  return { outcome: "ok" }
}

/** `total` chat requests, half streamed; `onProgress(done)` after each, to time a fault. */
export async function chatLoad(
  url: string,
  o: { total: number; concurrency: number; maxTokens: number; onProgress?: (done: number) => void },
): Promise<ChatResult> {
  const r: ChatResult = { ok: 0, failed: 0, cut: 0, failures: [], latencies: [], wallMs: 0 }
  const t0 = performance.now()
  let done = 0
  await pooled(o.total, o.concurrency, async (i) => {
    const s = performance.now()
    const { outcome, why } = await chatOnce(url, i, o.maxTokens)
    r[outcome]++
    if (outcome === "ok") r.latencies.push(performance.now() - s)
    else r.failures.push(`${outcome}: ${why}`)
    o.onProgress?.(++done)
  })
  r.wallMs = performance.now() - t0
  return r
}

// ---- processes ----

/** A free TCP port on loopback (bound, read, released). */
export function freePort(): number {
  const s = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() })
  const port = s.port!
  s.stop(true)
  return port
}

export interface PoolOnPort extends Proc {
  url: string
  port: number
  dataDir: string
}

/** `cellule pool` on a fixed port, so it can be killed and restarted behind a static nginx config. */
export async function startPoolOn(port: number, dataDir: string, env: Record<string, string>): Promise<PoolOnPort> {
  const p = spawnProc([...celluleCmd(), "pool", "--port", String(port), "--host", "127.0.0.1", "--data-dir", dataDir], {
    // The first-boot wizard is answered headlessly (the test answers), as startPool does.
    env: { POOL_NAME: `pool-${port}`, CELLULE_SETUP_ANSWERS: testSetupAnswers(), ...env },
  })
  await p.waitFor(/cellule pool ready/, 90_000)
  return Object.assign(p, { url: `http://127.0.0.1:${port}`, port, dataDir })
}

export async function startCelluleProxy(
  upstreams: string[],
  env: Record<string, string> = {},
  logFile?: string,
): Promise<Proc & { url: string }> {
  const cmd = [...celluleCmd(), "proxy", "--host", "127.0.0.1", "--port", "0", "--upstream", upstreams.join(",")]
  // The bench sends the access log to a file, as nginx does, so the load generator does not read it.
  const p = logFile
    ? spawnProc(["bash", "-c", 'exec "$@" 2>>"$LOG_FILE"', "bash", ...cmd], { env: { LOG_FILE: logFile, ...env } })
    : spawnProc(cmd, { env })
  const m = await p.waitFor(/cellule proxy ready (http:\/\/\S+)/, 60_000)
  return Object.assign(p, { url: m[1] })
}

/** nginx with the shipped reference configuration, its pools and port swapped in. */
export async function startNginx(upstreams: string[]): Promise<Proc & { url: string }> {
  if (!existsSync("/usr/sbin/nginx")) {
    throw new Error(
      "bench/entry needs Debian's nginx for the baseline: apt-get install nginx-light (or run `bash install/dev/setup.sh --test`)",
    )
  }
  const dir = tempDir("cellule-nginx-")
  const port = freePort()
  const servers = upstreams.map((u) => `        server ${new URL(u).host} max_fails=3 fail_timeout=30s;`).join("\n")
  const conf = readFileSync(join(ROOT, "install/nginx/cellule-entry.conf"), "utf8")
    .replace(/( {8}server 127\.0\.0\.1:1808\d max_fails=3 fail_timeout=30s;\n)+/g, `${servers}\n`)
    .replace("listen 18080;", `listen 127.0.0.1:${port};`)
    .replace("/var/log/nginx/access.log", join(dir, "access.log"))
    // Temp files in our own directory, so the bench runs as any user.
    .replace(
      "http {",
      `http {\n    client_body_temp_path ${dir}/body;\n    proxy_temp_path ${dir}/proxy;\n    fastcgi_temp_path ${dir}/fastcgi;\n    uwsgi_temp_path ${dir}/uwsgi;\n    scgi_temp_path ${dir}/scgi;`,
    )
  writeFileSync(join(dir, "nginx.conf"), conf)
  const p = spawnProc([
    "/usr/sbin/nginx",
    "-p",
    dir,
    "-c",
    join(dir, "nginx.conf"),
    "-e",
    join(dir, "error.log"),
    "-g",
    `pid ${dir}/nginx.pid; daemon off;`,
  ])
  const url = `http://127.0.0.1:${port}`
  for (let i = 0; i < 100; i++) {
    if (
      await fetch(`${url}/v1/models`).then(
        () => true,
        () => false,
      )
    )
      return Object.assign(p, { url })
    await Bun.sleep(50)
  }
  throw new Error(`nginx did not start: ${readFileSync(join(dir, "error.log"), "utf8")}`)
}

async function waitModelLive(url: string, timeoutMs = 90_000) {
  const deadline = Date.now() + timeoutMs
  let last = ""
  while (Date.now() < deadline) {
    last = await fetch(`${url}/v1/models`).then(
      (r) => r.text(),
      (e) => String(e),
    )
    try {
      const j = JSON.parse(last) as { data?: { id: string; cellule?: { workers?: number } }[] }
      if (j.data?.some((m) => m.id === "tiny" && (m.cellule?.workers ?? 1) > 0)) return
    } catch {}
    await Bun.sleep(200)
  }
  throw new Error(`no live worker for tiny on ${url}: ${last.slice(0, 300)}`)
}

// ---- the bench ----

async function main() {
  const rounds = Number(arg("rounds", "3"))
  const light = Number(arg("light", "2000"))
  const chat = Number(arg("chat", "200"))
  const concurrency = Number(arg("concurrency", "16"))
  const maxTokens = Number(arg("max-tokens", "8"))
  const token = "bench-token-0123456789abcdef"
  const env = { ...TEST_POOL_ENV, CELLULE_WORKER_TOKEN: token, LOG_LEVEL: "warn" }
  const model = await tinyLlamaPath()
  mkdirSync(join(ROOT, "test-artifacts"), { recursive: true })

  const ports = [freePort(), freePort(), freePort()]
  const dirs = ports.map(() => tempDir("cellule-bench-pool-"))
  const pools = await Promise.all(ports.map((p, i) => startPoolOn(p, dirs[i], env)))
  for (const p of pools)
    await startWorker({ poolUrl: p.url, token, models: [`tiny=${model}`], slots: 2, env: { LOG_LEVEL: "warn" } })
  for (const p of pools) await waitModelLive(p.url)
  const urls = pools.map((p) => p.url)
  console.error(`pools up: ${urls.join(" ")}`)

  const entries = ["cellule", "nginx"] as const
  type Entry = (typeof entries)[number]
  const label: Record<Entry, string> = { cellule: "cellule proxy", nginx: "nginx (reference conf)" }
  const lat: Record<
    Entry | "direct",
    { p50: number[]; p99: number[]; rps: number[]; added50: number[]; added99: number[] }
  > = {
    direct: { p50: [], p99: [], rps: [], added50: [], added99: [] },
    cellule: { p50: [], p99: [], rps: [], added50: [], added99: [] },
    nginx: { p50: [], p99: [], rps: [], added50: [], added99: [] },
  }
  const kills = Object.fromEntries(
    entries.map((e) => [e, { failed: [] as number[], cut: [] as number[], ok: [] as number[], rps: [] as number[] }]),
  ) as Record<Entry, { failed: number[]; cut: number[]; ok: number[]; rps: number[] }>
  const victimIndex = 1

  for (let r = 0; r < rounds; r++) {
    // Rotate the order every round, so no side always runs first (or right after a pool restart).
    const order = entries.map((_, i) => entries[(i + r) % entries.length])
    for (const side of order) {
      const entry =
        side === "nginx"
          ? await startNginx(urls)
          : await startCelluleProxy(urls, {}, join(tempDir("cellule-proxy-log-"), "proxy.log"))
      await lightLoad(entry.url, 200, concurrency)
      await lightLoad(urls[0], 200, concurrency)
      // Added latency: the entry against direct-to-pool, measured interleaved.
      const { direct: d, entry: l } = await pairedLightLoad(urls[0], entry.url, light, concurrency)
      for (const [k, res] of [
        ["direct", d],
        [side, l],
      ] as const) {
        lat[k].p50.push(percentile(res.latencies, 50))
        lat[k].p99.push(percentile(res.latencies, 99))
        lat[k].rps.push(res.rps)
      }
      lat[side].added50.push(percentile(l.latencies, 50) - percentile(d.latencies, 50))
      lat[side].added99.push(percentile(l.latencies, 99) - percentile(d.latencies, 99))
      // Chat load with one pool SIGKILLed after a quarter of the requests.
      let killed = false
      const res = await chatLoad(entry.url, {
        total: chat,
        concurrency,
        maxTokens,
        onProgress: (n) => {
          if (!killed && n >= chat / 4) {
            killed = true
            pools[victimIndex].proc.kill("SIGKILL")
          }
        },
      })
      kills[side].failed.push(res.failed)
      kills[side].cut.push(res.cut)
      kills[side].ok.push(res.ok)
      kills[side].rps.push((chat / res.wallMs) * 1000)
      console.error(
        `round ${r + 1} ${side}: light p50 ${percentile(l.latencies, 50).toFixed(2)} ms p99 ${percentile(l.latencies, 99).toFixed(2)} ms ${l.rps.toFixed(0)} req/s; kill: ok ${res.ok} failed ${res.failed} cut ${res.cut}`,
      )
      for (const f of res.failures.slice(0, 5)) console.error(`  ${f}`)
      await entry.kill("SIGTERM")
      // Bring the victim back on the same port; its worker rejoins by itself.
      await pools[victimIndex].exited
      pools[victimIndex] = await startPoolOn(ports[victimIndex], dirs[victimIndex], env)
      await waitModelLive(pools[victimIndex].url, 90_000)
    }
  }

  const fmt = (xs: number[], digits = 2) =>
    `${median(xs).toFixed(digits)} (${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)})`
  const added = (side: Entry, k: "p50" | "p99") => (k === "p50" ? lat[side].added50 : lat[side].added99)
  const rows = [
    [
      "side",
      "p50 ms",
      "p99 ms",
      "added p50 ms",
      "added p99 ms",
      "req/s (light)",
      `failed / ${chat} during kill`,
      "cut streams",
      "chat req/s",
    ],
    ["direct to one pool", fmt(lat.direct.p50), fmt(lat.direct.p99), "—", "—", fmt(lat.direct.rps, 0), "—", "—", "—"],
    ...entries.map((s) => [
      label[s],
      fmt(lat[s].p50),
      fmt(lat[s].p99),
      fmt(added(s, "p50")),
      fmt(added(s, "p99")),
      fmt(lat[s].rps, 0),
      fmt(kills[s].failed, 0),
      fmt(kills[s].cut, 0),
      fmt(kills[s].rps, 1),
    ]),
  ]
  console.log(
    `\nbench/entry: ${rounds} rounds, light ${light} × GET /v1/models, chat ${chat} (half streamed, max_tokens ${maxTokens}), concurrency ${concurrency}; median (min–max)\n`,
  )
  console.log(`| ${rows[0].join(" | ")} |\n| ${rows[0].map(() => "---").join(" | ")} |`)
  for (const row of rows.slice(1)) console.log(`| ${row.join(" | ")} |`)
  // The goal (issue: within 1.5× of nginx) as per-round ratios, so machine noise between rounds cancels.
  console.log("\nadded latency / nginx's, per round: median (min–max)")
  for (const s of ["cellule"] as const)
    for (const k of ["p50", "p99"] as const) {
      const ratios = added(s, k).map((v, i) => v / added("nginx", k)[i])
      console.log(`  ${label[s]} ${k}: ${fmt(ratios)}`)
    }
  await cleanupAll()
}

if (import.meta.main) {
  main().then(
    () => process.exit(0),
    async (e) => {
      console.error(e)
      await cleanupAll()
      process.exit(1)
    },
  )
}
