// The §4.6.1 hysteresis on an injected clock: PRIMARY_OK → FAILING → DOWN, failover allowed only
// in auto mode (or after the manual-mode failsafe), and back to PRIMARY_OK when the primary returns.
import { describe, expect, test } from "bun:test"
import { ManualClock } from "../../../core/clock.ts"
import { FailoverPolicy, type Tier } from "../../../core/workers/failover.ts"

const S = 1000
function policy(mode: "auto" | "manual") {
  const clock = new ManualClock()
  const transitions: [Tier, Tier][] = []
  const p = new FailoverPolicy({
    clock,
    mode,
    failingMs: 90 * S,
    downMs: 300 * S,
    failsafeMs: 24 * 3600 * S,
    onTransition: (a, b) => transitions.push([a, b]),
  })
  return { clock, p, transitions }
}

describe("failover hysteresis", () => {
  test("auto: silent under 90 s, FAILING from 90 s, DOWN and failover from 5 min", () => {
    const { clock, p, transitions } = policy("auto")
    p.primaryLost()
    clock.advance(89 * S)
    expect(p.tick()).toBe("PRIMARY_OK")
    // A reconnect attempt failing again does not restart the clock.
    p.primaryLost()
    clock.advance(1 * S)
    expect(p.tick()).toBe("FAILING")
    expect(p.mayFailOver()).toBe(false)
    clock.advance(210 * S - 1)
    expect(p.tick()).toBe("FAILING")
    clock.advance(1)
    expect(p.mayFailOver()).toBe(true)
    p.primaryUp()
    expect(transitions).toEqual([
      ["PRIMARY_OK", "FAILING"],
      ["FAILING", "DOWN"],
      ["DOWN", "PRIMARY_OK"],
    ])
  })

  test("a blip shorter than 90 s logs no transition at all", () => {
    const { clock, p, transitions } = policy("auto")
    p.primaryLost()
    clock.advance(60 * S)
    p.tick()
    p.primaryUp()
    expect(transitions).toEqual([])
  })

  test("manual: DOWN but no failover until the 24 h failsafe", () => {
    const { clock, p } = policy("manual")
    p.primaryLost()
    clock.advance(300 * S)
    expect(p.tick()).toBe("DOWN")
    expect(p.mayFailOver()).toBe(false)
    clock.advance(24 * 3600 * S - 1)
    expect(p.mayFailOver()).toBe(false)
    clock.advance(1)
    expect(p.mayFailOver()).toBe(true)
  })
})
