// core/proxy/metrics — the proxy's counters, rendered in the Prometheus text format on GET /metrics.
// Labels are bounded: upstream URLs come from the configuration or discovery (the federation's pools),
// statuses are HTTP codes or "error".

import { esc, Exposition, Histogram } from "../metrics/prom.ts"

export class ProxyMetrics {
  /** upstream → status → count: no label string built per request. */
  readonly requests = new Map<string, Map<number | "error", number>>()
  readonly retries = new Map<string, number>()
  readonly failures = new Map<string, number>()
  readonly brokenStreams = new Map<string, number>()
  inFlight = 0
  websockets = 0
  private readonly duration = new Histogram(
    "cellule_proxy_request_duration_seconds",
    "Time from request to the end of the response.",
  )

  private inc(m: Map<string, number>, k: string) {
    m.set(k, (m.get(k) ?? 0) + 1)
  }

  request(upstream: string, status: number | "error") {
    let byStatus = this.requests.get(upstream)
    if (!byStatus) {
      byStatus = new Map()
      this.requests.set(upstream, byStatus)
    }
    byStatus.set(status, (byStatus.get(status) ?? 0) + 1)
  }
  retry(upstream: string) {
    this.inc(this.retries, upstream)
  }
  failure(upstream: string) {
    this.inc(this.failures, upstream)
  }
  brokenStream(upstream: string) {
    this.inc(this.brokenStreams, upstream)
  }
  observe(seconds: number) {
    this.duration.observe(seconds)
  }

  render(upstreams: { url: string; up: boolean; inFlight: number }[]): string {
    const out: string[] = []
    const family = (name: string, type: string, help: string) =>
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`)
    family(
      "cellule_proxy_requests_total",
      "counter",
      'Requests answered, by upstream pool and HTTP status ("error": no answer).',
    )
    for (const [u, byStatus] of this.requests)
      for (const [s, v] of byStatus) out.push(`cellule_proxy_requests_total{upstream="${esc(u)}",status="${s}"} ${v}`)
    family(
      "cellule_proxy_retries_total",
      "counter",
      "Attempts that failed before any response byte and were retried on another pool, by the pool that failed.",
    )
    for (const [u, v] of this.retries) out.push(`cellule_proxy_retries_total{upstream="${esc(u)}"} ${v}`)
    family(
      "cellule_proxy_upstream_failures_total",
      "counter",
      "Failed attempts (connection error, timeout, 502/504), by pool.",
    )
    for (const [u, v] of this.failures) out.push(`cellule_proxy_upstream_failures_total{upstream="${esc(u)}"} ${v}`)
    family(
      "cellule_proxy_broken_streams_total",
      "counter",
      "Responses cut after their first byte because the pool went away, by pool.",
    )
    for (const [u, v] of this.brokenStreams) out.push(`cellule_proxy_broken_streams_total{upstream="${esc(u)}"} ${v}`)
    family("cellule_proxy_upstream_up", "gauge", "1 when the pool is in rotation, 0 when taken out.")
    for (const u of upstreams) out.push(`cellule_proxy_upstream_up{upstream="${esc(u.url)}"} ${u.up ? 1 : 0}`)
    family("cellule_proxy_upstream_in_flight", "gauge", "Requests in progress on each pool.")
    for (const u of upstreams) out.push(`cellule_proxy_upstream_in_flight{upstream="${esc(u.url)}"} ${u.inFlight}`)
    family("cellule_proxy_in_flight", "gauge", "Requests in progress through the proxy.")
    out.push(`cellule_proxy_in_flight ${this.inFlight}`)
    family("cellule_proxy_websockets", "gauge", "WebSocket connections passed through.")
    out.push(`cellule_proxy_websockets ${this.websockets}`)
    const h = new Exposition()
    this.duration.render(h)
    return `${out.join("\n")}\n${h.text()}`
  }
}
