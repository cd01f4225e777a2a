// core/metrics/worker — what a worker's GET /metrics exposes (on CELLULE_WORKER_METRICS_LISTEN, off by
// default): jobs by kind and outcome, tokens generated, time to first token measured on the worker
// (job received → first token out), and gauges read at scrape time (jobs running, connected, activity).
import { CONTENT_TYPE, CounterVec, Exposition, Histogram } from "./prom.ts"
import { logger } from "../log.ts"

const log = logger("metrics")

export class WorkerMetrics {
  readonly jobs = new CounterVec("cellule_worker_jobs_total", "Jobs finished, by kind and outcome (ok, error).")
  readonly tokens = new CounterVec(
    "cellule_worker_tokens_generated_total",
    "Tokens generated, by model, counted when each job ends (rate() gives tokens/s).",
  )
  readonly ttft = new Histogram(
    "cellule_worker_time_to_first_token_seconds",
    "Time from a job reaching this worker to its first generated token.",
  )

  render(gauges: { running: number; connected: boolean; activity: string }): string {
    const out = new Exposition()
    this.jobs.render(out)
    this.tokens.render(out)
    this.ttft.render(out)
    out.gauge("cellule_worker_jobs_running", "Jobs in progress on this worker.", [[undefined, gauges.running]])
    out.gauge("cellule_worker_connected", "1 while connected to a pool.", [[undefined, gauges.connected ? 1 : 0]])
    out.gauge("cellule_worker_activity", "1 for the worker's current activity state.", [
      [{ state: gauges.activity }, 1],
    ])
    return out.text()
  }
}

/** Parses "host:port" (":port" or "port" alone: 127.0.0.1). */
export function parseListen(v: string): { host: string; port: number } {
  const m = /^(?:(.*):)?(\d+)$/.exec(v.trim())
  if (!m) throw new Error(`not a host:port: ${v}`)
  const host = (m[1] ?? "").replace(/^\[|\]$/g, "") || "127.0.0.1"
  return { host, port: Number(m[2]) }
}

/** A tiny listener that answers GET /metrics with `render()` and 404 otherwise. */
export function serveMetrics(listen: string, render: () => string | Promise<string>) {
  const { host, port } = parseListen(listen)
  const server = Bun.serve({
    hostname: host,
    port,
    async fetch(req) {
      const url = new URL(req.url)
      if (url.pathname !== "/metrics" || req.method !== "GET") return new Response("not found\n", { status: 404 })
      return new Response(await render(), { headers: { "content-type": CONTENT_TYPE } })
    },
  })
  log.info(`metrics on http://${host}:${server.port}/metrics`)
  return server
}
