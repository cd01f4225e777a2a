// core/proxy/metrics — the proxy's counters, rendered in the Prometheus text format on GET /metrics.
// Labels are bounded: upstream URLs come from the configuration or discovery (the federation's pools),
// statuses are HTTP codes or "error".

const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300]

function esc(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")
}

export class ProxyMetrics {
  readonly requests = new Map<string, number>() // `${upstream}\u0000${status}`
  readonly retries = new Map<string, number>()
  readonly failures = new Map<string, number>()
  readonly brokenStreams = new Map<string, number>()
  inFlight = 0
  websockets = 0
  private readonly buckets = new Array(BUCKETS.length).fill(0)
  private count = 0
  private sum = 0

  private inc(m: Map<string, number>, k: string) {
    m.set(k, (m.get(k) ?? 0) + 1)
  }

  request(upstream: string, status: number | "error") {
    this.inc(this.requests, `${upstream}\u0000${status}`)
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
    this.count++
    this.sum += seconds
    for (let i = 0; i < BUCKETS.length; i++) if (seconds <= BUCKETS[i]) this.buckets[i]++
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
    for (const [k, v] of this.requests) {
      const [u, s] = k.split("\u0000")
      out.push(`cellule_proxy_requests_total{upstream="${esc(u)}",status="${s}"} ${v}`)
    }
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
    family("cellule_proxy_request_duration_seconds", "histogram", "Time from request to the end of the response.")
    BUCKETS.forEach(
      (b, i) => void out.push(`cellule_proxy_request_duration_seconds_bucket{le="${b}"} ${this.buckets[i]}`),
    )
    out.push(`cellule_proxy_request_duration_seconds_bucket{le="+Inf"} ${this.count}`)
    out.push(`cellule_proxy_request_duration_seconds_sum ${this.sum}`)
    out.push(`cellule_proxy_request_duration_seconds_count ${this.count}`)
    return out.join("\n") + "\n"
  }
}
