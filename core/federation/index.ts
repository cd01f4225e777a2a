// core/federation — the federation service of one pool: identity, bonds, signed gossip (relay and
// anti-entropy loops), latency probes. No HTTP types here: routes in core/http/routes/federation.ts call it.
import type { Clock } from "../clock.ts"
import type { Config } from "../config/index.ts"
import type { Sql } from "../db/client.ts"
import { CelluleError, Forbidden, ServiceUnavailable } from "../errors.ts"
import { logger } from "../log.ts"
import type { Envelope } from "./envelope.ts"
import { highWater, ingest, missingFor, publish, type IngestResult } from "./gossip.ts"
import { HybridClock } from "./hlc.ts"
import { atomIdOf, loadIdentity, verifySig, type Identity } from "./identity.ts"
import { Loop } from "./loop.ts"
import * as peers from "./peers.ts"
import { assertRoutable, unroutableReason } from "./pool-url.ts"
import { signedFetch } from "./transport.ts"
import { classify, networkType, RttWindow, type Link } from "./topology.ts"

export { KINDS, type ReplicatedKind, type Stamp } from "./kinds/index.ts"
export { settingType, CLUSTER_WIDE } from "./kinds/setting.ts"
export type { Envelope } from "./envelope.ts"
export type { EntryPool, Peer } from "./peers.ts"

const log = logger("federation")

export const PULL_LIMIT = 1000
export const PUSH_LIMIT = 500
export const AUTO_PROMOTE_AFTER_MS = 24 * 3600_000

type FedConfig = Pick<
  Config,
  | "fedMode"
  | "fedGossipEnabled"
  | "fedKeyDir"
  | "fedRekey"
  | "minTrustLevel"
  | "bondPeers"
  | "fedAllowLoopbackUrl"
  | "fedGossipMs"
  | "fedAntiEntropyMs"
  | "fedProbeMs"
  | "poolName"
>

export interface FederationStats {
  envelopes_applied: number
  envelopes_refused: Record<string, number>
  pushes: number
  pulls: number
}

export class Federation {
  readonly hlc: HybridClock
  readonly stats: FederationStats = { envelopes_applied: 0, envelopes_refused: {}, pushes: 0, pulls: 0 }
  /** What each peer has, per origin, as it last told us. */
  private peerHw = new Map<string, Record<string, number>>()
  private rtt = new Map<string, RttWindow>()
  private loops: Loop[] = []
  readonly relay: Loop
  readonly antiEntropy: Loop
  readonly probe: Loop
  readonly bond: Loop
  private bondPending: string[]
  /** The URL peers use to reach this pool; set once the listener's port is known. */
  url: string

  constructor(
    readonly sql: Sql,
    readonly identity: Identity,
    readonly config: Readonly<FedConfig>,
    readonly clock: Clock,
    url: string,
  ) {
    this.url = url
    this.hlc = new HybridClock(clock)
    this.relay = new Loop("gossip relay", config.fedGossipMs, () => this.relayTick(), log)
    this.antiEntropy = new Loop("anti-entropy", config.fedAntiEntropyMs, () => this.antiEntropyTick(), log)
    this.probe = new Loop("latency probe", config.fedProbeMs, () => this.probeTick(), log)
    this.bond = new Loop("bond at boot", 1000, () => this.bondTick(), log, 30_000)
    this.bondPending = config.bondPeers.map(peers.normaliseUrl)
  }

  /** Load (or create) the key and resume the HLC after the newest logged stamp. */
  static async open(sql: Sql, config: Readonly<FedConfig>, clock: Clock, url: string): Promise<Federation> {
    const id = await loadIdentity(sql, config.fedKeyDir, { rekey: config.fedRekey })
    const fed = new Federation(sql, id, config, clock, url)
    const [row] = await sql<{ hlc: string | null }[]>`select max(hlc collate "C") as hlc from federation_log`
    if (row?.hlc) fed.hlc.observe(row.hlc)
    log.info(`federation ${config.fedMode}: atom ${id.atomId}, advertised as ${url}`)
    return fed
  }

  get mode() {
    return this.config.fedMode
  }

  private gossiping() {
    return this.config.fedMode !== "off" && this.config.fedGossipEnabled
  }

  /** Check POOL_URL at boot: refused when bonds exist or are requested, a warning otherwise. */
  async checkAdvertisedUrl() {
    if (this.config.fedMode === "off" || this.config.fedAllowLoopbackUrl) return
    const reason = unroutableReason(this.url)
    if (!reason) return
    const [{ n }] = await this.sql<
      { n: number }[]
    >`select count(*)::int as n from federation_peers where revoked_at is null`
    if (n > 0 || this.config.bondPeers.length) assertRoutable(this.url, false)
    log.warn(
      `POOL_URL ${this.url} is not reachable from other hosts (${reason}); bonding will be refused until it is (admin guide §4.5 P1)`,
    )
  }

  start() {
    if (this.config.fedMode === "off") return
    this.loops = [this.probe]
    if (this.gossiping()) this.loops.push(this.relay, this.antiEntropy)
    if (this.bondPending.length) this.loops.push(this.bond)
    for (const l of this.loops) l.start({ immediate: true })
  }

  async stop() {
    await Promise.all([this.relay, this.antiEntropy, this.probe, this.bond].map((l) => l.stop()))
  }

  loopStates() {
    return Object.fromEntries(
      [this.relay, this.antiEntropy, this.probe, this.bond].map((l) => [
        l.name,
        { state: l.state, ticks: l.ticks, last_error: l.lastError },
      ]),
    )
  }

  // ---- replication -------------------------------------------------------------------------

  /** A local change to a replicated kind: applied here at once, pushed to trusted peers. */
  async publish(kind: string, payload: unknown): Promise<Envelope> {
    const env = await publish(this.sql, this.identity, this.hlc, kind, payload)
    this.relay.kick()
    return env
  }

  /** Per-origin high-water marks advertised to peers: ourselves and every trusted origin (0 if none yet). */
  async advertisement(): Promise<Record<string, number>> {
    const hw = await highWater(this.sql)
    const out: Record<string, number> = { [this.identity.atomId]: hw[this.identity.atomId] ?? 0 }
    for (const p of await this.trustedPeers()) out[p.atom_id] = hw[p.atom_id] ?? 0
    return out
  }

  private requireGossip() {
    if (this.config.fedMode === "off")
      throw new ServiceUnavailable("federation_off", "federation is off on this pool (CELLULE_FED=off)")
    if (!this.config.fedGossipEnabled)
      throw new ServiceUnavailable(
        "gossip_disabled",
        "gossip is disabled on this pool (CELLULE_FED_GOSSIP_ENABLED=false)",
      )
  }

  /** Envelopes pushed by a bonded peer. */
  async receive(fromPeer: string, envelopes: unknown[]): Promise<IngestResult & { hw: Record<string, number> }> {
    this.requireGossip()
    const res = await ingest(
      this.sql,
      {
        self: this.identity,
        hlc: this.hlc,
        clock: this.clock,
        mode: this.config.fedMode === "observe" ? "observe" : "active",
        minTrust: this.config.minTrustLevel,
        fromPeer,
      },
      envelopes,
    )
    this.count(res)
    if (res.applied + res.superseded > 0) this.relay.kick()
    return { ...res, hw: await this.advertisement() }
  }

  /** Anti-entropy request from a trusted peer: what it lacks of the origins it knows. */
  async pullFor(
    fromPeer: string,
    have: Record<string, number>,
  ): Promise<{ envelopes: Envelope[]; hw: Record<string, number> }> {
    this.requireGossip()
    const p = await peers.getPeer(this.sql, fromPeer)
    if (!p || p.revoked_at || p.trust_level < this.config.minTrustLevel)
      throw new Forbidden(`peer ${fromPeer} is not trusted at level ${this.config.minTrustLevel}`, "peer_untrusted")
    const known: Record<string, number> = {}
    for (const [o, s] of Object.entries(have ?? {})) if (typeof s === "number" && o !== fromPeer) known[o] = s
    this.peerHw.set(fromPeer, have)
    const envelopes = (await missingFor(this.sql, known, PULL_LIMIT)).filter((e) => e.origin in known)
    return { envelopes, hw: await this.advertisement() }
  }

  /** A trusted peer asks what we have (per-origin high-water marks), before relaying to us. */
  async highWaterFor(fromPeer: string): Promise<{ hw: Record<string, number> }> {
    this.requireGossip()
    const p = await peers.getPeer(this.sql, fromPeer)
    if (!p || p.revoked_at || p.trust_level < this.config.minTrustLevel)
      throw new Forbidden(`peer ${fromPeer} is not trusted at level ${this.config.minTrustLevel}`, "peer_untrusted")
    return { hw: await this.advertisement() }
  }

  private count(res: IngestResult) {
    this.stats.envelopes_applied += res.applied + res.superseded + res.observed
    for (const r of res.refused)
      this.stats.envelopes_refused[r.reason] = (this.stats.envelopes_refused[r.reason] ?? 0) + 1
  }

  private trustedPeers() {
    return peers.trustedPeers(this.sql, this.config.minTrustLevel)
  }

  private async exchange(p: peers.Peer) {
    for (let round = 0; round < 20; round++) {
      const res = await signedFetch<{ envelopes: unknown[]; hw: Record<string, number> }>(
        this.identity,
        p.url,
        "/v1/federation/p2p/pull",
        {
          body: { have: await this.advertisement() },
          now: this.clock.now(),
        },
      )
      this.stats.pulls++
      this.peerHw.set(p.atom_id, res.hw ?? {})
      if (!Array.isArray(res.envelopes) || !res.envelopes.length) return
      const r = await ingest(
        this.sql,
        {
          self: this.identity,
          hlc: this.hlc,
          clock: this.clock,
          mode: this.config.fedMode === "observe" ? "observe" : "active",
          minTrust: this.config.minTrustLevel,
          fromPeer: p.atom_id,
        },
        res.envelopes,
      )
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
          if (!this.peerHw.has(p.atom_id)) await this.exchange(p)
          for (let round = 0; round < 20; round++) {
            let theirs = this.peerHw.get(p.atom_id) ?? {}
            let batch = (await missingFor(this.sql, theirs, PUSH_LIMIT, p.atom_id)).filter((e) => e.origin in theirs)
            if (!batch.length) return
            // Relaying other origins' envelopes: our picture of the peer is probably stale (the origin pushes
            // to it too), so refresh it first; shipping and verifying duplicates costs more than one round trip.
            if (batch.some((e) => e.origin !== this.identity.atomId)) {
              const fresh = await signedFetch<{ hw: Record<string, number> }>(
                this.identity,
                p.url,
                "/v1/federation/p2p/hw",
                { now: this.clock.now() },
              )
              this.peerHw.set(p.atom_id, fresh.hw ?? {})
              theirs = this.peerHw.get(p.atom_id) ?? {}
              batch = (await missingFor(this.sql, theirs, PUSH_LIMIT, p.atom_id)).filter((e) => e.origin in theirs)
              if (!batch.length) return
            }
            const res = await signedFetch<{ hw: Record<string, number> }>(
              this.identity,
              p.url,
              "/v1/federation/p2p/gossip",
              { body: { envelopes: batch }, now: this.clock.now() },
            )
            this.stats.pushes++
            const next = res.hw ?? {}
            // Guard against a peer that keeps refusing: stop when its marks did not move.
            const moved = batch.some((e) => (next[e.origin] ?? 0) >= e.seq)
            this.peerHw.set(p.atom_id, next)
            if (!moved) return
          }
        } catch (e) {
          this.peerHw.delete(p.atom_id)
          errors.push(`${p.pool_name ?? p.atom_id}: ${(e as Error).message}`)
        }
      }),
    )
    if (errors.length) throw new Error(errors.join("; "))
  }

  // ---- bonds ---------------------------------------------------------------------------------

  /** Bond with the pool at `url` (admin action). With reciprocate, the peer records us in the same call. */
  async register(url: string, opts: { token?: string; reciprocate?: boolean } = {}): Promise<peers.Peer> {
    if (this.config.fedMode === "off")
      throw new ServiceUnavailable("federation_off", "federation is off on this pool (CELLULE_FED=off)")
    assertRoutable(this.url, this.config.fedAllowLoopbackUrl)
    const base = peers.normaliseUrl(url)
    let info: { atom_id: string; pubkey: string; pool_name: string | null }
    if (opts.reciprocate !== false) {
      const ts = this.clock.now()
      const res = await signedFetch<{ atom_id: string; pubkey: string; pool_name: string; sig: string; ts: number }>(
        this.identity,
        base,
        "/v1/federation/p2p/hello",
        {
          body: { url: this.url, pool_name: this.config.poolName, token: opts.token, nonce_ts: ts },
          now: ts,
          withPubkey: true,
        },
      )
      if (
        typeof res.pubkey !== "string" ||
        atomIdOf(res.pubkey) !== res.atom_id ||
        !verifySig(res.pubkey, helloProof(this.identity.atomId, res.atom_id, ts), res.sig)
      )
        throw new CelluleError(
          "peer_proof_invalid",
          `the pool at ${base} did not prove it holds the key of ${res.atom_id}`,
          502,
        )
      info = res
    } else {
      const res = await fetch(`${base}/v1/federation/identity`, { signal: AbortSignal.timeout(10_000) })
        .then((r) => r.json() as Promise<any>)
        .catch((e) => {
          throw new CelluleError("peer_unreachable", `cannot reach peer at ${base}: ${(e as Error).message}`, 502)
        })
      if (typeof res?.pubkey !== "string" || atomIdOf(res.pubkey) !== res.atom_id)
        throw new CelluleError("peer_bad_response", `bad identity from ${base}`, 502)
      info = res
    }
    if (info.atom_id === this.identity.atomId)
      throw new CelluleError("bond_self", "a pool cannot bond with itself", 400)
    const peer = await peers.upsertPeer(this.sql, {
      atom_id: info.atom_id,
      pubkey: info.pubkey,
      url: base,
      pool_name: info.pool_name ?? null,
    })
    log.info(`bonded with ${info.pool_name ?? "?"} (${info.atom_id}) at ${base}, trust ${peer.trust_level}`)
    this.probe.kick()
    return peer
  }

  /** The peer side of register: a caller that proved its key asks to be recorded. */
  async acceptHello(
    caller: { atomId: string; pubkey: string },
    body: { url?: unknown; pool_name?: unknown; token?: unknown; nonce_ts?: unknown },
  ) {
    if (this.config.fedMode === "off")
      throw new ServiceUnavailable("federation_off", "federation is off on this pool (CELLULE_FED=off)")
    if (typeof body.url !== "string" || typeof body.nonce_ts !== "number")
      throw new CelluleError("validation_failed", "hello needs url and nonce_ts", 400)
    if (caller.atomId === this.identity.atomId)
      throw new CelluleError("bond_self", "a pool cannot bond with itself", 400)
    const url = peers.normaliseUrl(body.url)
    assertRoutable(url, this.config.fedAllowLoopbackUrl)
    const poolName = typeof body.pool_name === "string" ? body.pool_name.slice(0, 200) : null
    const existing = await peers.getPeer(this.sql, caller.atomId)
    const listed = this.config.bondPeers.some((e) => peers.hostPort(e) === peers.hostPort(url))
    if (!existing && !listed) {
      if (
        typeof body.token !== "string" ||
        !(await peers.consumeAttachmentToken(this.sql, body.token, caller.atomId, this.clock))
      )
        throw new Forbidden(
          "bonding needs a valid attachment token from this pool's dashboard (single use, 24 h)",
          "attachment_token_required",
        )
    }
    // A working path is never replaced by a claim (we may reach the peer through a tunnel or relay);
    // a path that does not work is (the peer fixed its POOL_URL, §4.5 P1).
    await peers.upsertPeer(this.sql, {
      atom_id: caller.atomId,
      pubkey: caller.pubkey,
      url: existing?.stable_since ? existing.url : url,
      pool_name: poolName,
    })
    log.info(`bond accepted from ${poolName ?? "?"} (${caller.atomId}) at ${url}`)
    this.probe.kick()
    return {
      atom_id: this.identity.atomId,
      pubkey: this.identity.pubkey,
      pool_name: this.config.poolName,
      url: this.url,
      sig: this.identity.sign(helloProof(caller.atomId, this.identity.atomId, body.nonce_ts)),
    }
  }

  private async bondTick() {
    const left: string[] = []
    const self = peers.hostPort(this.url)
    // The same list is usually given to every pool: skip our own entry.
    this.bondPending = this.bondPending.filter((u) => peers.hostPort(u) !== self)
    for (const url of this.bondPending) {
      try {
        await this.register(url, { reciprocate: true })
      } catch (e) {
        left.push(url)
        log.info(`bond at boot with ${url} not yet done: ${(e as Error).message}`)
      }
    }
    this.bondPending = left
    if (!left.length) {
      log.info("bond at boot: every CELLULE_BOND_PEERS entry is bonded")
      void this.bond.stop()
      return
    }
    throw new Error(`${left.length} peer(s) left to bond`)
  }

  // ---- topology ------------------------------------------------------------------------------

  private async probeTick() {
    const autoPromote = await this.autoPromoteEnabled()
    await Promise.all(
      (await peers.listPeers(this.sql))
        .filter((p) => !p.revoked_at)
        .map(async (p) => {
          const now = this.clock.now()
          try {
            const t0 = performance.now()
            const res = await fetch(`${p.url}/v1/federation/ping`, { signal: AbortSignal.timeout(5000) })
            const body = (await res.json()) as { atom_id?: string }
            const ms = performance.now() - t0
            if (body.atom_id !== p.atom_id) throw new Error(`answered as ${body.atom_id}`)
            let w = this.rtt.get(p.atom_id)
            if (!w) {
              w = new RttWindow()
              this.rtt.set(p.atom_id, w)
            }
            const rtt = Math.round(w.add(ms) * 100) / 100
            const link: Link = classify(rtt)
            if (p.link !== link) log.info(`link to ${p.pool_name ?? p.atom_id}: ${link} (${rtt} ms)`)
            const stableSince = p.stable_since ?? new Date(now)
            await this
              .sql`update federation_peers set latency_ms = ${rtt}, link = ${link}, last_seen = ${new Date(now)}, stable_since = ${stableSince} where atom_id = ${p.atom_id}`
            if (
              autoPromote &&
              p.trust_level < this.config.minTrustLevel &&
              now - stableSince.getTime() >= AUTO_PROMOTE_AFTER_MS &&
              now - p.first_seen.getTime() >= AUTO_PROMOTE_AFTER_MS
            ) {
              await peers.promotePeer(this.sql, p.atom_id, this.config.minTrustLevel)
              log.info(
                `auto-promoted ${p.pool_name ?? p.atom_id} to trust ${this.config.minTrustLevel} after 24 h of stability`,
              )
            }
          } catch (e) {
            if (p.stable_since) log.warn(`peer ${p.pool_name ?? p.atom_id} unreachable: ${(e as Error).message}`)
            await this.sql`update federation_peers set stable_since = null where atom_id = ${p.atom_id}`
          }
        }),
    )
  }

  private async autoPromoteEnabled(): Promise<boolean> {
    const [row] = await this.sql<
      { value: unknown }[]
    >`select value from cluster_settings where key = 'federation.auto_promote'`
    return row?.value === true
  }

  /** This pool's measured links (one row of the latency matrix). */
  async links() {
    const rows = await peers.listPeers(this.sql)
    return rows
      .filter((p) => !p.revoked_at)
      .map((p) => ({
        atom_id: p.atom_id,
        pool_name: p.pool_name,
        url: p.url,
        latency_ms: p.latency_ms,
        link: p.link,
        last_seen: p.last_seen,
        trust_level: p.trust_level,
      }))
  }

  /**
   * The pools a `cellule proxy` may discover through this one: itself (its advertised URL), then its
   * trusted peers. With federation off there are no bonds to follow, so only itself.
   */
  async entryPools(): Promise<peers.EntryPool[]> {
    const self = { url: this.url, pool_name: this.config.poolName, atom_id: this.identity.atomId }
    if (this.config.fedMode === "off") return [self]
    return peers.entryPools(this.sql, self, this.config.minTrustLevel)
  }

  /** Network type and latency matrix: our row, plus each reachable peer's own row. */
  async topology() {
    const mine = await this.links()
    const matrix: Record<string, Record<string, number | null>> = {
      [this.identity.atomId]: Object.fromEntries(mine.map((l) => [l.atom_id, l.latency_ms])),
    }
    await Promise.all(
      mine.map(async (p) => {
        try {
          const res = await signedFetch<{ links: { atom_id: string; latency_ms: number | null }[] }>(
            this.identity,
            p.url,
            "/v1/federation/p2p/links",
            { now: this.clock.now(), timeoutMs: 2000 },
          )
          matrix[p.atom_id] = Object.fromEntries(res.links.map((l) => [l.atom_id, l.latency_ms]))
        } catch {
          matrix[p.atom_id] = {}
        }
      }),
    )
    const names: Record<string, string | null> = { [this.identity.atomId]: this.config.poolName }
    for (const p of mine) names[p.atom_id] = p.pool_name
    return {
      self: { atom_id: this.identity.atomId, pool_name: this.config.poolName, url: this.url },
      network_type: networkType(mine.map((l) => l.link)),
      links: mine,
      names,
      matrix,
    }
  }
}

/** What a bonded-to pool signs to prove it holds its key: the caller's atom, its own, the caller's timestamp. */
export function helloProof(callerAtom: string, selfAtom: string, ts: number): Uint8Array {
  return Buffer.from(`cellule.fed.hello.v1\n${callerAtom}\n${selfAtom}\n${ts}`)
}

export { peers }

/** POOL_URL with port 0 (tests, "pick a free port") replaced by the port actually listened on. */
export function advertisedUrl(poolUrl: string, port: number): string {
  const u = new URL(poolUrl)
  if (u.port !== "0") return poolUrl.replace(/\/+$/, "")
  u.port = String(port)
  return u.toString().replace(/\/+$/, "")
}
