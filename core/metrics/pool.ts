// core/metrics/pool — what the pool's GET /metrics exposes. Request counters are bumped in memory by the
// listener (core/http/server.ts); tokens and TTFT by the scheduler; everything else is a gauge read at
// scrape time (the scheduler's snapshot, the federation's peer table, the ingest backlog), so the request
// path never touches the database for metrics.
import type { PoolServices } from "../pool/services.ts"
import { CounterVec, Exposition, routeLabel } from "./prom.ts"

export class HttpMetrics {
  readonly requests = new CounterVec(
    "cellule_http_requests_total",
    "HTTP requests answered, by route template and status code.",
  )
  readonly errors = new CounterVec(
    "cellule_http_errors_total",
    "HTTP requests answered with a 4xx or 5xx status, by route template and status code.",
  )
  /** Called once per answered request; a map update, nothing more. */
  record(pathname: string, status: number) {
    const labels = { route: routeLabel(pathname), code: status }
    this.requests.inc(labels)
    if (status >= 400) this.errors.inc(labels)
  }
}

export async function renderPoolMetrics(s: PoolServices): Promise<string> {
  const out = new Exposition()
  s.httpMetrics.requests.render(out)
  s.httpMetrics.errors.render(out)
  s.scheduler.tokensGenerated.render(out)
  s.scheduler.ttft.render(out)
  s.smartRouter?.routed.render(out)
  const snap = s.scheduler.snapshot()
  out.gauge(
    "cellule_queue_depth",
    "Generations waiting for a slot, by model.",
    Object.keys(snap.queues).length
      ? Object.entries(snap.queues).map(([model, n]) => [{ model }, n])
      : [[undefined, snap.queue_depth]],
  )
  const byState = new Map<string, number>()
  for (const w of snap.workers) byState.set(w.activity, (byState.get(w.activity) ?? 0) + 1)
  out.gauge(
    "cellule_workers",
    "Connected workers, by activity state.",
    [...byState].map(([state, n]) => [{ state }, n]),
  )
  if (s.federation) {
    const now = s.clock.now()
    const links = await s.federation.links()
    out.gauge(
      "cellule_federation_peer_last_seen_seconds",
      "Seconds since this pool last heard from each bonded peer (gossip lag); absent for a peer never heard.",
      links
        .filter((p) => p.last_seen)
        .map((p) => [{ peer: p.pool_name ?? p.atom_id }, Math.max(0, (now - new Date(p.last_seen!).getTime()) / 1000)]),
    )
  }
  if (s.rag) {
    const b = await s.rag.documents.backlog()
    out.gauge("cellule_ingest_backlog_documents", "Documents waiting to be indexed or being indexed.", [
      [undefined, b.documents],
    ])
    out.gauge("cellule_ingest_backlog_chunks", "Chunks of those documents not embedded yet.", [[undefined, b.chunks]])
  }
  out.gauge("cellule_uptime_seconds", "Seconds since the pool started.", [
    [undefined, (s.clock.now() - s.startedAt) / 1000],
  ])
  return out.text()
}
