// bench/entry — the unified entry, `cellule proxy` against the reference nginx (install/nginx/
// cellule-entry.conf), in front of the same three pools: added latency and requests/s on a light
// endpoint versus direct-to-pool, and failed requests when a pool is SIGKILLed under a chat load.
// Sides alternate every round and each round starts fresh entries (nginx keeps max_fails state).
//   bun bench/entry.ts [--rounds 3] [--light 2000] [--chat 200] [--concurrency 16] [--max-tokens 8]
import { arg } from "./_args.ts"
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { tinyLlamaPath } from "../test/support/fixtures.ts"
import { chatLoad, lightLoad, median, pairedLightLoad, percentile } from "../test/support/load.ts"
import {
  celluleCmd,
  cleanupAll,
  freePort,
  ROOT,
  spawnProc,
  startCelluleProxy,
  startWorker,
  tempDir,
  testSetupAnswers,
  TEST_POOL_ENV,
  type Proc,
} from "../test/support/proc.ts"

// ---- processes ----

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
