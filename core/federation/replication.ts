// core/federation/replication — moving signed envelopes between bonded pools: the relay (push what a
// peer lacks, kicked by every local or received change) and anti-entropy (pull what we lack, periodic),
// plus the peer side of both (receive, pullFor, highWaterFor).
import { Forbidden, ServiceUnavailable } from "../errors.ts"
import { logger } from "../log.ts"
import type { FedContext } from "./_context.ts"
import type { Envelope } from "./envelope.ts"
import { highWater, ingest, missingFor, publish, type IngestResult } from "./gossip.ts"
import { Loop } from "./loop.ts"
import * as peers from "./peers.ts"
import { signedFetch } from "./transport.ts"

const log = logger("federation")

export const PULL_LIMIT = 1000
export const PUSH_LIMIT = 500

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
    const envelopes = (await missingFor(this.ctx.sql, known, PULL_LIMIT)).filter((e) => e.origin in known)
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

  private async exchange(p: peers.Peer) {
    for (let round = 0; round < 20; round++) {
      const res = await signedFetch<{ envelopes: unknown[]; hw: Record<string, number> }>(
        this.ctx.identity,
        p.url,
        "/v1/federation/p2p/pull",
        { body: { have: await this.advertisement() }, now: this.ctx.clock.now() },
      )
      this.stats.pulls++
      this.peerHw.set(p.atom_id, res.hw ?? {})
      if (!Array.isArray(res.envelopes) || !res.envelopes.length) return
      const r = await this.ingest(p.atom_id, res.envelopes)
      this.count(r)
      if (r.applied + r.superseded > 0) this.relay.kick()
      if (res.envelopes.length < PULL_LIMIT || r.applied + r.superseded + r.observed === 0) return
    }
  }

  private async antiEntropyTick() {
    const errors: string[] = []
    for (const p of await this.trustedPeers()) {
      try {
        await this.exchange(p)
      } catch (e) {
        errors.push(`${p.pool_name ?? p.atom_id}: ${(e as Error).message}`)
      }
    }
    this.relay.kick()
    if (errors.length) throw new Error(errors.join("; "))
  }

  private async relayTick() {
    const errors: string[] = []
    await Promise.all(
      (await this.trustedPeers()).map(async (p) => {
        try {
          await this.pushTo(p)
        } catch (e) {
          this.peerHw.delete(p.atom_id)
          errors.push(`${p.pool_name ?? p.atom_id}: ${(e as Error).message}`)
        }
      }),
    )
    if (errors.length) throw new Error(errors.join("; "))
  }

  /** Push to `p` what it lacks of the origins it knows, in batches, until its marks stop moving. */
  private async pushTo(p: peers.Peer) {
    const { sql, identity, clock } = this.ctx
    if (!this.peerHw.has(p.atom_id)) await this.exchange(p)
    for (let round = 0; round < 20; round++) {
      let theirs = this.peerHw.get(p.atom_id) ?? {}
      let batch = (await missingFor(sql, theirs, PUSH_LIMIT, p.atom_id)).filter((e) => e.origin in theirs)
      if (!batch.length) return
      // Relaying other origins' envelopes: our picture of the peer is probably stale (the origin pushes
      // to it too), so refresh it first; shipping and verifying duplicates costs more than one round trip.
      if (batch.some((e) => e.origin !== identity.atomId)) {
        const fresh = await signedFetch<{ hw: Record<string, number> }>(identity, p.url, "/v1/federation/p2p/hw", {
          now: clock.now(),
        })
        this.peerHw.set(p.atom_id, fresh.hw ?? {})
        theirs = this.peerHw.get(p.atom_id) ?? {}
        batch = (await missingFor(sql, theirs, PUSH_LIMIT, p.atom_id)).filter((e) => e.origin in theirs)
        if (!batch.length) return
      }
      const res = await signedFetch<{ hw: Record<string, number> }>(identity, p.url, "/v1/federation/p2p/gossip", {
        body: { envelopes: batch },
        now: clock.now(),
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
