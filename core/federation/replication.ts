// core/federation/replication — moving signed envelopes between bonded pools: the relay (push what a
// peer lacks, kicked by every local change and every envelope that arrived second-hand) and anti-entropy
// (pull what we lack, periodic), plus the peer side of both (receive, pullFor, highWaterFor). Each peer
// has its own pipeline (pipeline.ts): the loops only hand out work, so a peer that stopped answering
// delays nobody else.
//
// What is relayed: our own envelopes always (we are their origin). Another origin's envelopes only when
// they reached us second-hand (relayed by a third pool, or pulled from one): an envelope its origin pushed
// to us itself was pushed by the origin to every trusted peer it has, so relaying it only sends
// duplicates (on a full mesh of 10, 72 duplicate offers per change). A peer that missed that push (down,
// frozen, unreachable from the origin) is repaired by anti-entropy: its own periodic pull, from any of us.
import { Forbidden, ServiceUnavailable } from "../errors.ts"
import { logger } from "../log.ts"
import type { FedContext } from "./_context.ts"
import type { Envelope } from "./envelope.ts"
import {
  MAX_BATCH_BYTES,
  highWater,
  ingest,
  missingFor,
  originHighWater,
  publish,
  type IngestResult,
} from "./gossip.ts"
import { Loop } from "./loop.ts"
import * as peers from "./peers.ts"
import { PeerPipeline, type PipelineState } from "./pipeline.ts"
import { signedFetch } from "./transport.ts"

const log = logger("federation")

export const PULL_LIMIT = 1000
export const PUSH_LIMIT = 500
/** First wait after a peer stopped answering; doubles up to CELLULE_FED_PEER_BACKOFF_MAX_MS. */
export const PEER_BACKOFF_BASE_MS = 500
/**
 * A peer's marks that do not name us (taken before it trusted us, e.g. an exchange racing the promotion)
 * would keep every push to it empty: they are asked again, at most this often.
 */
export const STALE_MARKS_RETRY_MS = 5000

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
  /** Per peer: the other origins whose second-hand envelopes are to be relayed to it at its next push. */
  private relayDue = new Map<string, Set<string>>()
  /** Per peer: when its marks were last asked because they did not name us (STALE_MARKS_RETRY_MS). */
  private staleAskedAt = new Map<string, number>()

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
  /**
   * A push from `fromPeer`. `reaches`: the peers it says it pushes its own envelopes to itself (absent
   * from a pool that predates it: then we relay its envelopes to every other peer, as before).
   */
  async receive(
    fromPeer: string,
    envelopes: unknown[],
    reaches?: string[],
  ): Promise<IngestResult & { hw: Record<string, number> }> {
    this.requireGossip()
    const res = await this.ingest(fromPeer, envelopes)
    this.count(res)
    if (res.applied + res.superseded > 0) this.relaySecondHand(fromPeer, envelopes, reaches)
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
      if (r.applied + r.superseded > 0) this.relaySecondHand(p.atom_id, res.envelopes)
      // A batch may end early at the byte budget (large envelopes): go on while anything was taken.
      if (r.applied + r.superseded + r.observed === 0) return
    }
  }

  /**
   * Envelopes from `fromPeer` were taken; mark them for relay to the peers that may not have them:
   *  - another origin's (second-hand: relayed or pulled from a third pool): the origin may not reach
   *    every peer (a partial mesh, a partition), so to every other peer;
   *  - `fromPeer`'s own: it pushes them itself to the peers in `reaches` (its answering pipelines), so
   *    only to our peers outside that list (a chain A–B–C where A has no bond to C, or cannot reach it).
   *    Without the list (an older pool) to every other peer.
   * Each relay asks the peer's marks first and sends only what it lacks; refused envelopes in the batch
   * only cost that ask.
   */
  private relaySecondHand(fromPeer: string, envelopes: unknown[], reaches?: string[]) {
    const self = this.ctx.identity.atomId
    const origins = new Set<string>()
    let ownByFrom = false
    for (const e of envelopes) {
      const o = (e as Envelope)?.origin
      if (o === fromPeer) ownByFrom = true
      // Only origins we trust (each has a pipeline): refused envelopes' made-up origins are not kept.
      else if (typeof o === "string" && o !== self && this.pipes.has(o)) origins.add(o)
    }
    const reached = reaches ? new Set(reaches) : undefined
    let any = false
    for (const id of this.pipes.keys()) {
      if (id === fromPeer) continue
      const due = this.relayDue.get(id) ?? new Set<string>()
      for (const o of origins) if (o !== id) due.add(o)
      if (ownByFrom && !reached?.has(id)) due.add(fromPeer)
      if (due.size) {
        this.relayDue.set(id, due)
        any = true
      }
    }
    if (any) this.relay.kick()
  }

  /** The peers our own envelopes reach without a relay: those whose pipeline is answering. */
  private reachedPeers(): string[] {
    return [...this.pipes].filter(([, { pipe }]) => pipe.failures === 0).map(([id]) => id)
  }

  /** The pipeline of each trusted peer (created on first use, dropped when the peer is no longer trusted). */
  private async pipelines(): Promise<{ id: string; pipe: PeerPipeline }[]> {
    const trusted = await this.trustedPeers()
    const ids = new Set(trusted.map((p) => p.atom_id))
    for (const [id, { pipe }] of this.pipes)
      if (!ids.has(id)) {
        this.pipes.delete(id)
        this.peerHw.delete(id)
        this.relayDue.delete(id)
        this.staleAskedAt.delete(id)
        void pipe.stop()
      }
    return trusted.map((p) => {
      const known = this.pipes.get(p.atom_id)
      if (known) {
        known.peer = p // its URL or name may have changed
        return { id: p.atom_id, pipe: known.pipe }
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
      return { id: p.atom_id, pipe: entry.pipe }
    })
  }

  // The ticks hand work to the pipelines and return: waiting here would make every peer wait for the slowest.
  private async antiEntropyTick() {
    for (const { pipe } of await this.pipelines()) {
      pipe.request("pull")
      pipe.request("push")
    }
  }

  // A push is handed out only where there is something to send: our own envelopes beyond the peer's
  // last known mark for us, or a relay due. An idle tick then costs one indexed query, no call.
  private async relayTick() {
    const self = this.ctx.identity.atomId
    const mine = await originHighWater(this.ctx.sql, self)
    for (const { id, pipe } of await this.pipelines()) {
      const theirs = this.peerHw.get(id)
      if (!theirs || this.relayDue.get(id)?.size || (self in theirs ? theirs[self] < mine : this.staleMarksDue(id)))
        pipe.request("push")
    }
  }

  /** Whether marks of `id` that do not name us may be asked again now (`take`: and note it is done). */
  private staleMarksDue(id: string, take = false): boolean {
    const now = this.ctx.clock.now()
    if (now - (this.staleAskedAt.get(id) ?? Number.NEGATIVE_INFINITY) < STALE_MARKS_RETRY_MS) return false
    if (take) this.staleAskedAt.set(id, now)
    return true
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

  /**
   * Push to `p` what it lacks of our own envelopes and of the origins due for relay to it (of those it
   * knows), in batches, until its marks stop moving.
   */
  private async pushTo(p: peers.Peer, signal: AbortSignal) {
    const { identity } = this.ctx
    const due = this.relayDue.get(p.atom_id)
    this.relayDue.delete(p.atom_id)
    try {
      await this.pushOrigins(p, new Set([identity.atomId, ...(due ?? [])]), signal)
    } catch (e) {
      // Still due: the retry after the backoff relays them.
      if (due) this.relayDue.set(p.atom_id, new Set([...due, ...(this.relayDue.get(p.atom_id) ?? [])]))
      throw e
    }
  }

  /** Ask `p` for its current high-water marks and keep them as our picture of it. */
  private async refreshMarks(p: peers.Peer, signal: AbortSignal) {
    const fresh = await this.call<{ hw: Record<string, number> }>(p, "/v1/federation/p2p/hw", signal)
    this.peerHw.set(p.atom_id, fresh.hw ?? {})
  }

  private async pushOrigins(p: peers.Peer, origins: Set<string>, signal: AbortSignal) {
    const { sql, identity } = this.ctx
    const lacking = async () => {
      const theirs = this.peerHw.get(p.atom_id) ?? {}
      const have = Object.fromEntries(Object.entries(theirs).filter(([o]) => origins.has(o)))
      return missingFor(sql, have, PUSH_LIMIT, p.atom_id, MAX_BATCH_BYTES, true)
    }
    if (!this.peerHw.has(p.atom_id)) await this.exchange(p, signal)
    else if (!(identity.atomId in this.peerHw.get(p.atom_id)!) && this.staleMarksDue(p.atom_id, true))
      await this.refreshMarks(p, signal)
    for (let round = 0; round < 20; round++) {
      let batch = await lacking()
      if (!batch.length) return
      // Relaying other origins' envelopes: our picture of the peer is probably stale (the origin or
      // another relay may have reached it since), so refresh it first; shipping and verifying duplicates
      // costs more than one round trip.
      if (batch.some((e) => e.origin !== identity.atomId)) {
        await this.refreshMarks(p, signal)
        batch = await lacking()
        if (!batch.length) return
      }
      // Carrying our own envelopes: say whom we push them to, so the receiver relays them only beyond.
      const own = batch.some((e) => e.origin === identity.atomId)
      const res = await this.call<{ hw: Record<string, number> }>(p, "/v1/federation/p2p/gossip", signal, {
        envelopes: batch,
        ...(own ? { reaches: this.reachedPeers() } : {}),
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
