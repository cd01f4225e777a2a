// core/workers/failover — the worker's 3-tier anti-flap hysteresis towards its primary pool
// (admin guide §4.6.1): PRIMARY_OK (< 90 s without the primary; retry every 30 s), FAILING
// (90 s-5 min: stay, audit), DOWN (≥ 5 min: in auto mode move to a bonded peer), and the sticky
// return to the primary. Pure: time comes from the Clock; the agent does the connecting.
import type { Clock } from "../clock.ts"

export type Tier = "PRIMARY_OK" | "FAILING" | "DOWN"

export interface FailoverOptions {
  clock: Clock
  mode: "auto" | "manual"
  failingMs: number
  downMs: number
  /** Manual mode fails over anyway after this long DOWN (24 h failsafe). */
  failsafeMs: number
  onTransition?: (from: Tier, to: Tier, detail: Record<string, unknown>) => void
}

export class FailoverPolicy {
  tier: Tier = "PRIMARY_OK"
  /** When the primary was last lost (undefined while connected to it). */
  lostAt?: number

  constructor(private readonly o: FailoverOptions) {}

  private go(to: Tier, detail: Record<string, unknown> = {}) {
    if (to === this.tier) return
    const from = this.tier
    this.tier = to
    this.o.onTransition?.(from, to, detail)
  }

  /** Connected (welcomed) by the primary. */
  primaryUp() {
    const down = this.lostAt === undefined ? 0 : this.o.clock.now() - this.lostAt
    this.lostAt = undefined
    this.go("PRIMARY_OK", { unreachable_ms: down })
  }

  /** The primary connection failed or closed; the clock starts at the first failure only. */
  primaryLost() {
    this.lostAt ??= this.o.clock.now()
  }

  /** Re-evaluate the tier from how long the primary has been unreachable. */
  tick(): Tier {
    if (this.lostAt === undefined) return this.tier
    const gone = this.o.clock.now() - this.lostAt
    if (gone >= this.o.downMs) this.go("DOWN", { unreachable_ms: gone, mode: this.o.mode })
    else if (gone >= this.o.failingMs) this.go("FAILING", { unreachable_ms: gone })
    return this.tier
  }

  /** DOWN and allowed to move: auto mode, or manual mode past the failsafe delay. */
  mayFailOver(): boolean {
    if (this.tick() !== "DOWN" || this.lostAt === undefined) return false
    if (this.o.mode === "auto") return true
    return this.o.clock.now() - this.lostAt >= this.o.downMs + this.o.failsafeMs
  }
}
