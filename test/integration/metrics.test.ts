// GET /metrics on the pool (admin-only), the worker (CELLULE_WORKER_METRICS_LISTEN) and the proxy: each
// parses with a strict Prometheus text parser and moves when a chat completion is served through them.
import { afterAll, expect, test } from "bun:test"
import { tinyLlamaPath } from "../support/fixtures.ts"
import {
  ADMIN_FROM_LOOPBACK,
  cleanupAll,
  freePort,
  startCelluleProxy,
  startPool,
  startWorker,
  TEST_ADMIN,
} from "../support/proc.ts"
import { metricValue, parsePrometheus } from "../support/prom.ts"

afterAll(cleanupAll)

async function scrape(url: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, { headers })
  expect(res.status).toBe(200)
  expect(res.headers.get("content-type")).toContain("text/plain; version=0.0.4")
  return parsePrometheus(await res.text())
}

test("pool, worker and proxy /metrics parse and move after a chat completion", async () => {
  const model = await tinyLlamaPath()
  const token = "metrics-token-0123456789"
  const pool = await startPool({ env: { CELLULE_WORKER_TOKEN: token, ...ADMIN_FROM_LOOPBACK } })
  const workerMetrics = `http://127.0.0.1:${freePort()}`
  await startWorker({
    poolUrl: pool.url,
    token,
    models: [`tiny=${model}`],
    slots: 1,
    env: { CELLULE_WORKER_METRICS_LISTEN: workerMetrics.replace("http://", "") },
  })
  const proxy = await startCelluleProxy([pool.url])
  const admin = { "x-cellule-user": TEST_ADMIN.email }

  // Not an administrator: refused, whatever the network.
  const anon = await fetch(`${pool.url}/metrics`)
  expect(anon.status).toBe(401)
  expect(((await anon.json()) as { error: string }).error).toBe("admin_auth_required")
  const stranger = await fetch(`${pool.url}/metrics`, { headers: { "x-cellule-user": "nobody@test.local" } })
  expect(stranger.status).toBe(401)

  const route = { route: "/v1/chat/completions", code: "200" }
  const p0 = await scrape(`${pool.url}/metrics`, admin)
  const w0 = await scrape(`${workerMetrics}/metrics`)
  const x0 = await scrape(`${proxy.url}/metrics`)
  expect(p0.get("cellule_workers")!.samples.map((s) => s.labels.state)).toEqual(["available"])

  const res = await fetch(`${proxy.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "tiny", messages: [{ role: "user", content: "hi" }], max_tokens: 12, seed: 1 }),
  })
  expect(res.status).toBe(200)
  const body = (await res.json()) as { usage: { completion_tokens: number } }
  expect(body.usage.completion_tokens).toBeGreaterThan(0)

  const p1 = await scrape(`${pool.url}/metrics`, admin)
  const w1 = await scrape(`${workerMetrics}/metrics`)
  const x1 = await scrape(`${proxy.url}/metrics`)

  // Pool: one more 200 on the route, tokens counted, one more TTFT observation, an empty queue.
  const reqs = (f: typeof p0) => metricValue(f, "cellule_http_requests_total", route)
  expect(reqs(p1) - reqs(p0)).toBe(1)
  const tokens = (f: typeof p0) => metricValue(f, "cellule_tokens_generated_total", { model: "tiny" })
  expect(tokens(p1) - tokens(p0)).toBe(body.usage.completion_tokens)
  const ttft = "cellule_time_to_first_token_seconds"
  expect(metricValue(p1, `${ttft}_count`, {}, ttft) - metricValue(p0, `${ttft}_count`, {}, ttft)).toBe(1)
  expect(metricValue(p1, "cellule_queue_depth")).toBe(0)
  expect(p1.get("cellule_ingest_backlog_documents")!.samples[0].value).toBe(0)
  // The refused scrapes above were counted as errors on /metrics.
  expect(metricValue(p1, "cellule_http_errors_total", { route: "/metrics", code: "401" })).toBe(2)

  // Worker: one chat job ok, tokens, one TTFT observation.
  const jobs = (f: typeof p0) => metricValue(f, "cellule_worker_jobs_total", { kind: "chat", outcome: "ok" })
  expect(jobs(w1) - jobs(w0)).toBe(1)
  const wt = (f: typeof p0) => metricValue(f, "cellule_worker_tokens_generated_total", { model: "tiny" })
  expect(wt(w1) - wt(w0)).toBe(body.usage.completion_tokens)
  const wttft = "cellule_worker_time_to_first_token_seconds"
  expect(metricValue(w1, `${wttft}_count`, {}, wttft) - metricValue(w0, `${wttft}_count`, {}, wttft)).toBe(1)
  expect(metricValue(w1, "cellule_worker_connected")).toBe(1)

  // Proxy: one more 200 through the pool.
  const xr = (f: typeof p0) =>
    metricValue(f, "cellule_proxy_requests_total", { upstream: pool.url.replace(/\/$/, ""), status: "200" })
  expect(xr(x1) - xr(x0)).toBe(1)
})
