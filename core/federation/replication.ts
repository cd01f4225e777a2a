// core/federation/replication — moving signed envelopes between bonded pools: the relay (push what a
// peer lacks, kicked by every local or received change) and anti-entropy (pull what we lack, periodic),
// plus the peer side of both (receive, pullFor, highWaterFor). Each peer has its own pipeline
// (pipeline.ts): the loops only hand out work, so a peer that stopped answering delays nobody else.
import { Forbidden, ServiceUnavailable } from "../errors.ts"
import { logger } from "../log.ts"
import type { FedContext } from "./_context.ts"
import type { Envelope } from "./envelope.ts"
import { MAX_BATCH_BYTES, highWater, ingest, missingFor, publish, type IngestResult } from "./gossip.ts"
import { Loop } from "./loop.ts"
import * as peers from "./peers.ts"
import { PeerPipeline, type PipelineState } from "./pipeline.ts"
import { signedFetch } from "./transport.ts"

const log = logger("federation")

export const PULL_LIMIT = 1000
export const PUSH_LIMIT = 500
/** First wait after a peer stopped answering; doubles up to CELLULE_FED_PEER_BACKOFF_MAX_MS. */
export const PEER_BACKOFF_BASE_MS = 500

export interface FederationStats {
  envelopes_applied: number
  envelopes_refused: Record<string, number>
  pushes: number
  pulls: number
}

export class Replication {
  readonly stats: FederationStats = { envelopes_applied: 0, envelopes_refused: {}, pushes: 0, pulls: 0 }
  /** What each peer has, per origin, as it last told us. */
  private peerHw = new Map<string, Record<string, number>>()
  readonly relay: Loop
  readonly antiEntropy: Loop
  private pipes = new Map<string, { pipe: PeerPipeline; peer: peers.Peer }>()

  constructor(private ctx: FedContext) {
    this.relay = new Loop("gossip relay", ctx.config.fedGossipMs, () => this.relayTick(), log)
    this.antiEntropy = new Loop("anti-entropy", ctx.config.fedAntiEntropyMs, () => this.antiEntropyTick(), log)
  }

  /** A local change to a replicated kind: applied here at once, pushed to trusted peers. */
  async publish(kind: string, payload: unknown): Promise<Envelope> {
    const { sql, identity, hlc } = this.ctx
    const env = await publish(sql, identity, hlc, kind, payload)
    this.relay.kick()
    return env
  }

  /** Per-origin high-water marks advertised to peers: ourselves and every trusted origin (0 if none yet). */
  async advertisement(): Promise<Record<string, number>> {
    const hw = await highWater(this.ctx.sql)
    const self = this.ctx.identity.atomId
    const out: Record<string, number> = { [self]: hw[self] ?? 0 }
    for (const p of await this.trustedPeers()) out[p.atom_id] = hw[p.atom_id] ?? 0
    return out
  }

  private requireGossip() {
    if (this.ctx.config.fedMode === "off")
      throw new ServiceUnavailable("federation_off", "federation is off on this pool (CELLULE_FED=off)")
    if (!this.ctx.config.fedGossipEnabled)
      throw new ServiceUnavailable(
        "gossip_disabled",
        "gossip is disabled on this pool (CELLULE_FED_GOSSIP_ENABLED=false)",
      )
  }

  private ingest(fromPeer: string, envelopes: unknown[]) {
    const { sql, identity, hlc, clock, config } = this.ctx
    return ingest(
      sql,
      {
        self: identity,
        hlc,
        clock,
        mode: config.fedMode === "observe" ? "observe" : "active",
        minTrust: config.minTrustLevel,
        fromPeer,
        rejects: { maxAgeMs: config.fedRejectsMaxAgeDays * 86_400_000, maxRows: config.fedRejectsMaxRows },
      },
      envelopes,
    )
  }

  /** Envelopes pushed by a bonded peer. */
  async receive(fromPeer: string, envelopes: unknown[]): Promise<IngestResult & { hw: Record<string, number> }> {
    this.requireGossip()
    const res = await this.ingest(fromPeer, envelopes)
    this.count(res)
    if (res.applied + res.superseded > 0) this.relay.kick()
    return { ...res, hw: await this.advertisement() }
  }

  private async requireTrusted(fromPeer: string) {
    const minTrust = this.ctx.config.minTrustLevel
    const p = await peers.getPeer(this.ctx.sql, fromPeer)
    if (!p || p.revoked_at || p.trust_level < minTrust)
      throw new Forbidden(`peer ${fromPeer} is not trusted at level ${minTrust}`, "peer_untrusted")
  }

  /** Anti-entropy request from a trusted peer: what it lacks of the origins it knows. */
  async pullFor(
    fromPeer: string,
    have: Record<string, number>,
  ): Promise<{ envelopes: Envelope[]; hw: Record<string, number> }> {
    this.requireGossip()
    await this.requireTrusted(fromPeer)
    const known: Record<string, number> = {}
    for (const [o, s] of Object.entries(have ?? {})) if (typeof s === "number" && o !== fromPeer) known[o] = s
    this.peerHw.set(fromPeer, have)
    const envelopes = (await missingFor(this.ctx.sql, known, PULL_LIMIT, undefined, MAX_BATCH_BYTES, true)).filter(
      (e) => e.origin in known,
    )
    return { envelopes, hw: await this.advertisement() }
  }

  /** A trusted peer asks what we have (per-origin high-water marks), before relaying to us. */
  async highWaterFor(fromPeer: string): Promise<{ hw: Record<string, number> }> {
    this.requireGossip()
    await this.requireTrusted(fromPeer)
    return { hw: await this.advertisement() }
  }

  private count(res: IngestResult) {
    this.stats.envelopes_applied += res.applied + res.superseded + res.observed
    for (const r of res.refused)
      this.stats.envelopes_refused[r.reason] = (this.stats.envelopes_refused[r.reason] ?? 0) + 1
  }

  private trustedPeers() {
    return peers.trustedPeers(this.ctx.sql, this.ctx.config.minTrustLevel)
  }

  /** A peer that does not answer within CELLULE_FED_PEER_TIMEOUT_MS is backed off (its pipeline only). */
  private call<T>(p: peers.Peer, path: string, signal: AbortSignal, body?: unknown) {
    return signedFetch<T>(this.ctx.identity, p.url, path, {
      body,
      now: this.ctx.clock.now(),
      timeoutMs: this.ctx.config.fedPeerTimeoutMs,
      signal,
    })
  }

  private async exchange(p: peers.Peer, signal: AbortSignal) {
    for (let round = 0; round < 20; round++) {
      const res = await this.call<{ envelopes: unknown[]; hw: Record<string, number> }>(
        p,
        "/v1/federation/p2p/pull",
        signal,
        { have: await this.advertisement() },
      )
      this.stats.pulls++
      this.peerHw.set(p.atom_id, res.hw ?? {})
      if (!Array.isArray(res.envelopes) || !res.envelopes.length) return
      const r = await this.ingest(p.atom_id, res.envelopes)
      this.count(r)
      if (r.applied + r.superseded > 0) this.relay.kick()
      // A batch may end early at the byte budget (large envelopes): go on while anything was taken.
      if (r.applied + r.superseded + r.observed === 0) return
    }
  }

  /** The pipeline of each trusted peer (created on first use, dropped when the peer is no longer trusted). */
  private async pipelines(): Promise<PeerPipeline[]> {
    const trusted = await this.trustedPeers()
    const ids = new Set(trusted.map((p) => p.atom_id))
    for (const [id, { pipe }] of this.pipes)
      if (!ids.has(id)) {
        this.pipes.delete(id)
        this.peerHw.delete(id)
        void pipe.stop()
      }
    return trusted.map((p) => {
      const known = this.pipes.get(p.atom_id)
      if (known) {
        known.peer = p // its URL or name may have changed
        return known.pipe
      }
      const entry = { peer: p, pipe: undefined as unknown as PeerPipeline }
      entry.pipe = new PeerPipeline(
        p.pool_name ?? p.atom_id,
        {
          pull: (signal) => this.exchange(entry.peer, signal),
          push: (signal) => this.pushTo(entry.peer, signal),
          reset: () => this.peerHw.delete(p.atom_id),
        },
        { baseMs: PEER_BACKOFF_BASE_MS, maxMs: this.ctx.config.fedPeerBackoffMaxMs, log, clock: this.ctx.clock },
      )
      this.pipes.set(p.atom_id, entry)
      return entry.pipe
    })
  }

  // The ticks hand work to the pipelines and return: waiting here would make every peer wait for the slowest.
  private async antiEntropyTick() {
    for (const pipe of await this.pipelines()) {
      pipe.request("pull")
      pipe.request("push")
    }
  }

  private async relayTick() {
    for (const pipe of await this.pipelines()) pipe.request("push")
  }

  /** Each peer's pipeline: state, consecutive failures, last error, when a backed-off one tries again. */
  pipelineStates(): Record<
    string,
    { state: PipelineState; failures: number; last_error: string | null; retry_at: string | null }
  > {
    return Object.fromEntries(
      [...this.pipes.values()].map(({ pipe }) => [
        pipe.name,
        {
          state: pipe.state,
          failures: pipe.failures,
          last_error: pipe.lastError,
          retry_at: pipe.retryAt === null ? null : new Date(pipe.retryAt).toISOString(),
        },
      ]),
    )
  }

  /** Stop every pipeline, awaiting (or aborting) the call each has in flight. */
  async stop() {
    await Promise.all([...this.pipes.values()].map(({ pipe }) => pipe.stop()))
  }

  /** Push to `p` what it lacks of the origins it knows, in batches, until its marks stop moving. */
  private async pushTo(p: peers.Peer, signal: AbortSignal) {
    const { sql, identity } = this.ctx
    if (!this.peerHw.has(p.atom_id)) await this.exchange(p, signal)
    for (let round = 0; round < 20; round++) {
      let theirs = this.peerHw.get(p.atom_id) ?? {}
      let batch = (await missingFor(sql, theirs, PUSH_LIMIT, p.atom_id, MAX_BATCH_BYTES, true)).filter(
        (e) => e.origin in theirs,
      )
      if (!batch.length) return
      // Relaying other origins' envelopes: our picture of the peer is probably stale (the origin pushes
      // to it too), so refresh it first; shipping and verifying duplicates costs more than one round trip.
      if (batch.some((e) => e.origin !== identity.atomId)) {
        const fresh = await this.call<{ hw: Record<string, number> }>(p, "/v1/federation/p2p/hw", signal)
        this.peerHw.set(p.atom_id, fresh.hw ?? {})
        theirs = this.peerHw.get(p.atom_id) ?? {}
        batch = (await missingFor(sql, theirs, PUSH_LIMIT, p.atom_id, MAX_BATCH_BYTES, true)).filter(
          (e) => e.origin in theirs,
        )
        if (!batch.length) return
      }
      const res = await this.call<{ hw: Record<string, number> }>(p, "/v1/federation/p2p/gossip", signal, {
        envelopes: batch,
      })
      this.stats.pushes++
      const next = res.hw ?? {}
      // Guard against a peer that keeps refusing: stop when its marks did not move.
      const moved = batch.some((e) => (next[e.origin] ?? 0) >= e.seq)
      this.peerHw.set(p.atom_id, next)
      if (!moved) return
    }
  }
}
