// core/workers/migration/latency — §4.8 latency routing: which pool a worker belongs on, from its address
// (the guide's /24 rule) or, better, from the round trips the worker measured to the pools (NAT and
// site-to-site VPN break the /24 rule: a worker behind NAT shows the router's address). The decision is a
// pure function; LatencyRouter adds the hysteresis (a measured preference must hold N observations in a
// row, a worker moved within the cool-down is never moved again, one order per worker) and issues the
// order through the migration orders (orders.ts), which the executor then runs like any other move.
import { logger } from "../../log.ts"
import type { PoolRtts } from "../protocol.ts"

const log = logger("migration")

/** A measured pool counts as closer only at ≤ this share of this pool's round trip (and minGainMs below it). */
export const RTT_RATIO = 0.7

export interface PoolCandidate {
  atom_id: string
  url: string | null
}

export interface LatencyInput {
  /** The worker's address as this pool sees it (the WebSocket's remote address). */
  address: string
  self: PoolCandidate
  /** Trusted bonded peers (trust ≥ the minimum, not revoked). */
  peers: PoolCandidate[]
  /** What the worker measured (federation id → ms); absent or without this pool: the /24 rule. */
  rtts?: PoolRtts
  minGainMs: number
}

export type LatencyChoice =
  | { target: string; basis: "rtt" | "subnet"; why: string }
  | { target: null; basis: "rtt" | "subnet" | "none"; why: string }

/** The /24 of an IPv4 address (also IPv4-mapped IPv6), or null (IPv6, a host name). */
export function subnet24(address: string): string | null {
  const m = /^(?:::ffff:)?(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/i.exec(address.trim())
  if (!m || m.slice(1).some((o) => Number(o) > 255)) return null
  return `${m[1]}.${m[2]}.${m[3]}.0/24`
}

/** The /24 of a pool URL whose host is an IPv4 literal; host names are not resolved (null). */
export function urlSubnet24(url: string | null): string | null {
  if (!url) return null
  try {
    return subnet24(new URL(url).hostname)
  } catch {
    return null
  }
}

/**
 * Where the worker belongs. Measured round trips first: the closest pool the worker measured wins when
 * it beats this pool by minGainMs and RTT_RATIO (else it stays, even if the /24 rule would move it).
 * Without a measure of this pool and of one peer: the guide's /24 rule (a peer shares the worker's /24,
 * this pool does not; ties go to the smallest federation id, so every pool decides alike).
 */
export function latencyChoice(input: LatencyInput): LatencyChoice {
  const { rtts, self } = input
  const selfRtt = rtts?.[self.atom_id]
  const measured = input.peers.filter((p) => p.url && rtts?.[p.atom_id] !== undefined)
  if (selfRtt !== undefined && measured.length) {
    const best = measured.reduce((a, b) =>
      rtts![b.atom_id]! < rtts![a.atom_id]! || (rtts![b.atom_id] === rtts![a.atom_id] && b.atom_id < a.atom_id) ? b : a,
    )
    const bestRtt = rtts![best.atom_id]!
    if (bestRtt + input.minGainMs <= selfRtt && bestRtt <= selfRtt * RTT_RATIO)
      return {
        target: best.atom_id,
        basis: "rtt",
        why: `measured ${bestRtt} ms to ${best.atom_id}, ${selfRtt} ms here`,
      }
    return { target: null, basis: "rtt", why: `measured ${selfRtt} ms here, no pool clearly closer` }
  }
  const net = subnet24(input.address)
  if (!net) return { target: null, basis: "none", why: `no /24 for address ${input.address}` }
  if (urlSubnet24(self.url) === net) return { target: null, basis: "subnet", why: `this pool is on ${net}` }
  const same = input.peers.filter((p) => urlSubnet24(p.url) === net).sort((a, b) => (a.atom_id < b.atom_id ? -1 : 1))[0]
  if (same) return { target: same.atom_id, basis: "subnet", why: `worker and pool ${same.atom_id} on ${net}` }
  return { target: null, basis: "subnet", why: `no trusted pool on ${net}` }
}

/** What the router needs from the pool (injected: no socket, no SQL here). */
export interface LatencyRouterDeps {
  now(): number
  /** Read on each observation: off, nothing happens. */
  enabled(): boolean | Promise<boolean>
  settings(): { stableObservations: number; minGainMs: number; cooldownMs: number }
  self(): PoolCandidate
  peers(): Promise<PoolCandidate[]>
  /** This pool's last order for the worker (any state), if any: one order per worker, the cool-down. */
  lastOrder(workerId: string): Promise<{ issued_at: Date; finished_at: Date | null; state: string } | undefined>
  issue(order: { worker_id: string; target_pool: string; reason: string }): Promise<unknown>
  /** Whether the worker is pinned to a home pool (an on-site worker): never moved by latency either. */
  pinned?(workerId: string): Promise<boolean>
}

interface Track {
  address: string
  /** When a migration last moved the worker (its hello said so), on this pool's clock. */
  movedAt?: number
  /** The target the last observations agreed on, and how many in a row. */
  target: string | null
  count: number
  busy?: boolean
}

export class LatencyRouter {
  private readonly tracks = new Map<string, Track>()

  constructor(private readonly d: LatencyRouterDeps) {}

  /** The worker's handshake: its address, what it measured so far, when it was last moved. */
  hello(workerId: string, address: string, rtts?: PoolRtts, movedMsAgo?: number): Promise<string | null> {
    const now = this.d.now()
    this.tracks.set(workerId, {
      address,
      movedAt: movedMsAgo === undefined ? undefined : now - movedMsAgo,
      target: null,
      count: 0,
    })
    return this.observe(workerId, rtts)
  }

  /** A probe round the worker reported (heartbeat.pool_rtts): one more observation. */
  heartbeat(workerId: string, rtts: PoolRtts): Promise<string | null> {
    return this.observe(workerId, rtts)
  }

  gone(workerId: string) {
    this.tracks.delete(workerId)
  }

  /** One observation; the order it issued (target id), or null. */
  private async observe(workerId: string, rtts: PoolRtts | undefined): Promise<string | null> {
    const t = this.tracks.get(workerId)
    if (!t || t.busy || !(await this.d.enabled())) return null
    t.busy = true
    try {
      const s = this.d.settings()
      const choice = latencyChoice({
        address: t.address,
        self: this.d.self(),
        peers: await this.d.peers(),
        rtts,
        minGainMs: s.minGainMs,
      })
      t.count = choice.target && choice.target === t.target ? t.count + 1 : choice.target ? 1 : 0
      t.target = choice.target
      // A /24 match cannot flap (the address is the socket's): it acts at once. A measure must hold.
      if (!choice.target || (choice.basis === "rtt" && t.count < s.stableObservations)) return null
      if (await this.d.pinned?.(workerId)) return null
      const now = this.d.now()
      if (t.movedAt !== undefined && now - t.movedAt < s.cooldownMs) return null
      const last = await this.d.lastOrder(workerId)
      if (last) {
        if (last.state === "issued" || last.state === "draining") return null
        if (now - new Date(last.finished_at ?? last.issued_at).getTime() < s.cooldownMs) return null
      }
      await this.d.issue({ worker_id: workerId, target_pool: choice.target, reason: `latency: ${choice.why}` })
      t.count = 0
      return choice.target
    } catch (e) {
      log.warn(`latency routing of worker ${workerId}: ${(e as Error).message}`)
      return null
    } finally {
      t.busy = false
    }
  }
}
