// core/metrics/prom — the one Prometheus text-format (0.0.4) writer shared by the pool, the worker and the
// proxy: counters and histograms kept in memory (a map update on the hot path, nothing else), rendered at
// scrape time. Label values must be bounded by the caller (routes as templates, HTTP codes, peer ids).

export const CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

export const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300]

export function esc(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")
}

export type Labels = Record<string, string | number>

function labelText(l: Labels | undefined): string {
  if (!l) return ""
  const parts = Object.entries(l).map(([k, v]) => `${k}="${esc(String(v))}"`)
  return parts.length ? `{${parts.join(",")}}` : ""
}

/** A counter family keyed by its label set. */
export class CounterVec {
  private readonly values = new Map<string, { labels: Labels; v: number }>()
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}
  inc(labels: Labels = {}, by = 1) {
    const k = labelText(labels)
    const e = this.values.get(k)
    if (e) e.v += by
    else this.values.set(k, { labels, v: by })
  }
  get(labels: Labels = {}): number {
    return this.values.get(labelText(labels))?.v ?? 0
  }
  render(out: Exposition) {
    out.family(this.name, "counter", this.help)
    for (const e of this.values.values()) out.sample(this.name, e.labels, e.v)
  }
}

/** A histogram without labels (cumulative buckets, sum, count). */
export class Histogram {
  private readonly counts: number[]
  count = 0
  sum = 0
  constructor(
    readonly name: string,
    readonly help: string,
    readonly buckets: readonly number[] = LATENCY_BUCKETS,
  ) {
    this.counts = new Array(buckets.length).fill(0)
  }
  observe(v: number) {
    this.count++
    this.sum += v
    for (let i = 0; i < this.buckets.length; i++) if (v <= this.buckets[i]) this.counts[i]++
  }
  render(out: Exposition) {
    out.family(this.name, "histogram", this.help)
    this.buckets.forEach((b, i) => void out.sample(`${this.name}_bucket`, { le: b }, this.counts[i]))
    out.sample(`${this.name}_bucket`, { le: "+Inf" }, this.count)
    out.sample(`${this.name}_sum`, undefined, this.sum)
    out.sample(`${this.name}_count`, undefined, this.count)
  }
}

/** Accumulates families and samples, then `text()` gives the exposition body. */
export class Exposition {
  private readonly lines: string[] = []
  family(name: string, type: "counter" | "gauge" | "histogram", help: string) {
    this.lines.push(`# HELP ${name} ${help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")}`, `# TYPE ${name} ${type}`)
    return this
  }
  sample(name: string, labels: Labels | undefined, value: number) {
    this.lines.push(`${name}${labelText(labels)} ${Number.isFinite(value) ? value : value > 0 ? "+Inf" : "NaN"}`)
    return this
  }
  /** A gauge family with its samples in one call. */
  gauge(name: string, help: string, samples: [Labels | undefined, number][]) {
    this.family(name, "gauge", help)
    for (const [l, v] of samples) this.sample(name, l, v)
    return this
  }
  text(): string {
    return `${this.lines.join("\n")}\n`
  }
}

const STATIC_SEGMENTS = new Set(
  "admin chat completions embeddings documents keys workers federation models usage peers projects search revoke rotate status cluster audit license setup install forward p2p files sessions admins enrol".split(
    " ",
  ),
)

/** A bounded route label: ids and other variable segments become ":id" so label sets stay finite. */
export function routeLabel(pathname: string): string {
  if (pathname === "/" || pathname === "/metrics") return pathname
  const segs = pathname.split("/").slice(1, 7)
  if (segs[0] !== "v1") return segs[0] === "assets" ? "/assets" : "/dashboard"
  return `/${segs.map((s, i) => (i < 2 || STATIC_SEGMENTS.has(s) ? s.slice(0, 40) : ":id")).join("/")}`
}
