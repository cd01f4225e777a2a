// core/scheduler/forward — inter-pool forward: when this pool cannot serve a model (no live worker,
// queue full, or never heard of it), hand the request to one bonded peer (trust ≥ MIN_TRUST_LEVEL)
// that can, chosen by free capacity then link latency. One hop only: a forwarded request is never
// forwarded again. Requests are signed with this pool's federation key; the peer verifies first.
import type { Federation, Peer } from "../federation/index.ts"
import { trustedPeers } from "../federation/peers.ts"
import { signedFetch, signedHeaders } from "../federation/transport.ts"
import { logger } from "../log.ts"
import type { Scheduler } from "./scheduler.ts"

const log = logger("scheduler.forward")

export const FORWARD_PATH = "/v1/federation/forward/"
export const CAPACITY_PATH = "/v1/federation/forward-capacity"
/** Set on answers served by a peer, naming it (useful to admins; clients can ignore it). */
export const SERVED_BY_HEADER = "x-cellule-served-by"

export type ForwardKind = "chat/completions" | "completions" | "embeddings"

export interface ModelCapacity {
  id: string
  kind: "llm" | "embedding"
  slots: number
  busy: number
  queued: number
}

/** What this pool can take right now, as advertised to peers. */
export function capacityOf(scheduler: Scheduler): ModelCapacity[] {
  // O(models): a peer asks every 2 s while it forwards, and snapshot() would build every worker's record.
  const queues = scheduler.queued()
  return scheduler.liveModels().map((m) => {
    const cap = scheduler.capacity(m.id)
    return { id: m.id, kind: m.kind, slots: cap.slots, busy: cap.busy, queued: queues[m.id] ?? 0 }
  })
}

export interface PeerLoad {
  name: string
  workers: number | null
  slots: number
  busy: number
}

export class Forwarder {
  private cache = new Map<string, { at: number; models: ModelCapacity[]; workers?: number }>()
  private inflight = new Map<string, Promise<ModelCapacity[]>>()
  /** Bumped by forget(): answers to calls made before it are not cached. */
  private generation = 0

  constructor(
    private readonly fed: Federation,
    private readonly minTrust: number,
    private readonly cacheMs = 2000,
  ) {}

  private peers(): Promise<Peer[]> {
    return trustedPeers(this.fed.sql, this.minTrust)
  }

  /**
   * What a peer advertises, cached `cacheMs`. Callers that miss the cache at the same moment share one
   * call (bench/fleet: 20 concurrent forwarded streams made 13–14 calls/s where the cache allows 4.5).
   */
  peerCapacity(p: Peer): Promise<ModelCapacity[]> {
    const hit = this.cache.get(p.atom_id)
    const now = this.fed.clock.now()
    if (hit && now - hit.at < this.cacheMs) return Promise.resolve(hit.models)
    const pending = this.inflight.get(p.atom_id)
    if (pending) return pending
    const generation = this.generation
    const call = this.fetchCapacity(p, now, generation).finally(() => {
      if (this.inflight.get(p.atom_id) === call) this.inflight.delete(p.atom_id)
    })
    this.inflight.set(p.atom_id, call)
    return call
  }

  private async fetchCapacity(p: Peer, now: number, generation: number): Promise<ModelCapacity[]> {
    // An answer asked before forget() may predate the move it was forgotten for: used once, never cached.
    const keep = (e: { at: number; models: ModelCapacity[]; workers?: number }) => {
      if (generation === this.generation) this.cache.set(p.atom_id, e)
    }
    try {
      const res = await signedFetch<{ models: ModelCapacity[]; workers?: number }>(
        this.fed.identity,
        p.url,
        // No worker asked for: the answer carries no worker ids (their list grows with the peer's fleet).
        `${CAPACITY_PATH}?worker_id=`,
        { now, timeoutMs: 2000 },
      )
      keep({ at: now, models: res.models, workers: res.workers })
      return res.models
    } catch (e) {
      log.debug(`capacity of ${p.pool_name ?? p.atom_id} unknown: ${(e as Error).message}`)
      keep({ at: now, models: [] })
      return []
    }
  }

  /** Forget what peers advertised (a worker just moved to one of them: ask again). */
  forget() {
    this.generation++
    this.cache.clear()
    this.inflight.clear()
  }

  /** What each trusted peer advertises per model, by federation id (the balancer's view of the cluster). */
  async peerCapacities(): Promise<{ pool: string; models: ModelCapacity[] }[]> {
    return Promise.all((await this.peers()).map(async (p) => ({ pool: p.atom_id, models: await this.peerCapacity(p) })))
  }

  /** Workers and slots of each trusted peer, as they advertise them (null: unreachable). */
  async peersLoad(): Promise<PeerLoad[]> {
    return Promise.all(
      (await this.peers()).map(async (p) => {
        const models = (await this.peerCapacity(p)).filter((m) => m.kind === "llm")
        const workers = this.cache.get(p.atom_id)?.workers
        return {
          name: p.pool_name ?? p.atom_id,
          workers: workers ?? null,
          slots: models.reduce((n, m) => n + m.slots, 0),
          busy: models.reduce((n, m) => n + m.busy, 0),
        }
      }),
    )
  }

  /** Trusted peers serving `model`, best first: free slots, then shortest queue, then lowest latency. */
  async candidates(model: string): Promise<Peer[]> {
    const scored: { p: Peer; free: number; queued: number; rtt: number }[] = []
    await Promise.all(
      (await this.peers()).map(async (p) => {
        const m = (await this.peerCapacity(p)).find((c) => c.id === model)
        if (m && m.slots > 0) scored.push({ p, free: m.slots - m.busy, queued: m.queued, rtt: p.latency_ms ?? 1e9 })
      }),
    )
    scored.sort((a, b) => (b.free > 0 ? 1 : 0) - (a.free > 0 ? 1 : 0) || a.queued - b.queued || a.rtt - b.rtt)
    return scored.map((s) => s.p)
  }

  /**
   * Send the client's request body to the best peer; returns its response (JSON or SSE, passed
   * through as is), or null if no peer could take it. A peer that fails before answering is
   * skipped for the next one.
   */
  async forward(kind: ForwardKind, body: unknown, signal: AbortSignal): Promise<Response | null> {
    const model = (body as { model?: string }).model ?? ""
    for (const p of await this.candidates(model)) {
      const path = FORWARD_PATH + kind
      const bytes = Buffer.from(JSON.stringify(body))
      try {
        const res = await fetch(p.url + path, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            ...signedHeaders(this.fed.identity, "POST", path, bytes, this.fed.clock.now()),
          },
          body: bytes,
          // Pool-to-pool calls never follow a redirect: it could point anywhere, a loopback service included.
          redirect: "manual",
          signal,
        })
        if (res.status >= 500 || res.status === 429 || (res.status >= 300 && res.status < 400)) {
          log.warn(`peer ${p.pool_name ?? p.atom_id} could not take ${model} (${res.status}); trying the next`)
          this.cache.delete(p.atom_id)
          continue
        }
        log.info(`forwarded a ${kind} request for ${model} to ${p.pool_name ?? p.atom_id}`)
        const headers = new Headers(res.headers)
        headers.set(SERVED_BY_HEADER, p.pool_name ?? p.atom_id)
        headers.delete("content-length")
        headers.delete("content-encoding")
        return new Response(res.body, { status: res.status, headers })
      } catch (e) {
        if (signal.aborted) throw e
        log.warn(`forward to ${p.pool_name ?? p.atom_id} failed: ${(e as Error).message}`)
      }
    }
    return null
  }
}
