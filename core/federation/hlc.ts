// core/federation/hlc — hybrid logical clock: physical milliseconds plus a counter, encoded as a
// fixed-width string so text order is time order ("0001764000000000.00003").
import type { Clock } from "../clock.ts"

export interface Hlc {
  wall: number
  counter: number
}

export function encodeHlc(h: Hlc): string {
  return `${String(h.wall).padStart(16, "0")}.${String(h.counter).padStart(5, "0")}`
}

export function decodeHlc(s: unknown): Hlc | null {
  if (typeof s !== "string") return null
  const m = /^(\d{16})\.(\d{5})$/.exec(s)
  return m ? { wall: Number(m[1]), counter: Number(m[2]) } : null
}

export class HybridClock {
  private last: Hlc = { wall: 0, counter: 0 }
  constructor(private clock: Clock) {}

  /** Timestamp for a local event. */
  tick(): string {
    const now = this.clock.now()
    this.last =
      now > this.last.wall ? { wall: now, counter: 0 } : { wall: this.last.wall, counter: this.last.counter + 1 }
    return encodeHlc(this.last)
  }

  /** Merge a timestamp seen from a peer, so later local events sort after it. */
  observe(remote: string) {
    const r = decodeHlc(remote)
    if (!r) return
    if (r.wall > this.last.wall || (r.wall === this.last.wall && r.counter > this.last.counter)) this.last = r
  }
}

/** Last-writer-wins order: by HLC, then atom_id. True when `a` beats `b`. */
export function newer(
  a: { hlc: string; origin: string },
  b: { hlc: string; origin: string } | undefined | null,
): boolean {
  if (!b) return true
  if (a.hlc !== b.hlc) return a.hlc > b.hlc
  return a.origin > b.origin
}
