// core/federation/topology — link classification from measured round trips (admin guide §0.4):
// LAN < 5 ms, metro 5–30 ms, WAN > 30 ms; the cluster's network type is its slowest link.
export type Link = "lan" | "metro" | "wan"
export const LAN_MAX_MS = 5
export const METRO_MAX_MS = 30

export function classify(rttMs: number): Link {
  if (rttMs < LAN_MAX_MS) return "lan"
  if (rttMs <= METRO_MAX_MS) return "metro"
  return "wan"
}

const ORDER: Link[] = ["lan", "metro", "wan"]

/** "single" when the pool has no measured peer. */
export function networkType(links: (Link | null | undefined)[]): Link | "single" {
  const known = links.filter((l): l is Link => !!l)
  if (!known.length) return "single"
  return known.reduce((a, b) => (ORDER.indexOf(b) > ORDER.indexOf(a) ? b : a))
}

/**
 * Base RTT: the minimum of the last samples. Queuing, GC pauses and a busy CPU only ever add delay,
 * so the minimum estimates the link itself; the window lets a real change (new route) show within N probes.
 */
export class RttWindow {
  private samples: number[] = []
  constructor(private size = 8) {}
  add(ms: number): number {
    this.samples.push(ms)
    if (this.samples.length > this.size) this.samples.shift()
    return Math.min(...this.samples)
  }
}
