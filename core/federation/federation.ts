// core/federation/federation — the federation service of one pool, a small facade over its parts:
// replication (relay, anti-entropy), bonding, latency probes; plus what the routes read (links,
// topology, entry pools). No HTTP types here: routes in core/http/routes/federation.ts call it.
import type { Clock } from "../clock.ts"
import type { Sql } from "../db/client.ts"
import { ConfigError } from "../errors.ts"
import { logger } from "../log.ts"
import type { FedConfig, FedContext } from "./_context.ts"
import { Bonding, type NewBond } from "./bonding.ts"
import type { Envelope } from "./envelope.ts"
import type { IngestResult } from "./gossip.ts"
import { HybridClock } from "./hlc.ts"
import { loadIdentity, type Identity } from "./identity.ts"
import type { Loop } from "./loop.ts"
import * as peers from "./peers.ts"
import { assertRoutable, unroutableReason } from "./pool-url.ts"
import { Probes } from "./probes.ts"
import { Replication, type FederationStats } from "./replication.ts"
import { signedFetch } from "./transport.ts"
import { CelluleError } from "../errors.ts"
import { networkType } from "./topology.ts"

const log = logger("federation")

export class Federation implements FedContext {
  readonly hlc: HybridClock
  readonly replication: Replication
  readonly bonding: Bonding
  readonly probes: Probes
  private loops: Loop[] = []
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
    this.replication = new Replication(this)
    this.probes = new Probes(this)
    this.bonding = new Bonding(this, () => this.probes.loop.kick())
  }

  /** Load (or create) the key and resume the HLC after the newest logged stamp. */
  static async open(sql: Sql, config: Readonly<FedConfig>, clock: Clock, url: string): Promise<Federation> {
    const id = await loadIdentity(sql, config.fedKeyDir, { rekey: config.fedRekey })
    if (config.fedAtomId && config.fedAtomId !== id.atomId)
      throw new ConfigError(
        `CELLULE_FED_ATOM_ID is ${config.fedAtomId} but the key in ${config.fedKeyDir} gives ${id.atomId}`,
        "mount the pool's own key volume, or unset CELLULE_FED_ATOM_ID (FEDERATION_SELF_ATOM_ID) after a deliberate rekey",
      )
    const fed = new Federation(sql, id, config, clock, url)
    const [row] = await sql<{ hlc: string | null }[]>`select max(hlc collate "C") as hlc from federation_log`
    if (row?.hlc) fed.hlc.observe(row.hlc)
    log.info(`federation ${config.fedMode}: atom ${id.atomId}, advertised as ${url}`)
    return fed
  }

  get mode() {
    return this.config.fedMode
  }

  get stats(): FederationStats {
    return this.replication.stats
  }

  private get allLoops(): Loop[] {
    return [this.replication.relay, this.replication.antiEntropy, this.probes.loop, this.bonding.loop]
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
    this.loops = [this.probes.loop]
    if (this.config.fedGossipEnabled) this.loops.push(this.replication.relay, this.replication.antiEntropy)
    if (this.bonding.hasPending) this.loops.push(this.bonding.loop)
    for (const l of this.loops) l.start({ immediate: true })
  }

  async stop() {
    await Promise.all(this.allLoops.map((l) => l.stop()))
    await this.replication.stop()
  }

  /** The licence's say on a new bond (max_pools, multi_site): set by the pool, which holds the licence. */
  setBondGate(gate: (bond: NewBond) => Promise<void>) {
    this.bonding.gate = gate
  }

  /** Each trusted peer's replication pipeline (a frozen peer shows "backoff" here, the others "idle"). */
  pipelineStates() {
    return this.replication.pipelineStates()
  }

  loopStates() {
    return Object.fromEntries(
      this.allLoops.map((l) => [l.name, { state: l.state, ticks: l.ticks, last_error: l.lastError }]),
    )
  }

  // Replication and bonding, as the routes and other domains call them.
  publish(kind: string, payload: unknown): Promise<Envelope> {
    return this.replication.publish(kind, payload)
  }
  advertisement(): Promise<Record<string, number>> {
    return this.replication.advertisement()
  }
  receive(
    fromPeer: string,
    envelopes: unknown[],
    reaches?: string[],
  ): Promise<IngestResult & { hw: Record<string, number> }> {
    return this.replication.receive(fromPeer, envelopes, reaches)
  }
  pullFor(fromPeer: string, have: Record<string, number>) {
    return this.replication.pullFor(fromPeer, have)
  }
  highWaterFor(fromPeer: string) {
    return this.replication.highWaterFor(fromPeer)
  }
  register(url: string, opts: { token?: string; reciprocate?: boolean } = {}): Promise<peers.Peer> {
    return this.bonding.register(url, opts)
  }
  acceptHello(caller: Parameters<Bonding["acceptHello"]>[0], body: Parameters<Bonding["acceptHello"]>[1]) {
    return this.bonding.acceptHello(caller, body)
  }

  /**
   * A signed GET to a trusted peer (e.g. a replicated document's original bytes from its origin pool).
   * Its link type comes back too, so a caller can prefer LAN peers. Throws peer_untrusted otherwise.
   */
  async getFromPeer<T>(atomId: string, path: string, timeoutMs = 60_000): Promise<T> {
    const p = await peers.getPeer(this.sql, atomId)
    if (!p || p.revoked_at || p.trust_level < this.config.minTrustLevel)
      throw new CelluleError("peer_untrusted", `pool ${atomId} is not a trusted peer`, 502)
    return signedFetch<T>(this.identity, p.url, path, { now: this.clock.now(), timeoutMs })
  }

  /** The measured link to a peer ("lan", "metro", "wan"), or null when unknown or not bonded. */
  async linkTo(atomId: string): Promise<string | null> {
    return (await peers.getPeer(this.sql, atomId))?.link ?? null
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

/** POOL_URL with port 0 (tests, "pick a free port") replaced by the port actually listened on. */
export function advertisedUrl(poolUrl: string, port: number): string {
  const u = new URL(poolUrl)
  if (u.port !== "0") return poolUrl.replace(/\/+$/, "")
  u.port = String(port)
  return u.toString().replace(/\/+$/, "")
}
