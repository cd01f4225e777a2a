// Login throttling: attempts counted when they begin, per account and per address, for the window.
import { describe, expect, test } from "bun:test"
import { ManualClock } from "../../../core/clock.ts"
import { LoginThrottle } from "../../../core/auth/login-throttle.ts"

describe("login throttle", () => {
  test("per account after 5 attempts, per IP after 20, both for the window", () => {
    const clock = new ManualClock()
    const t = new LoginThrottle(clock)
    for (let i = 0; i < 5; i++) expect(t.begin("1.2.3.4", "a@x").retryAfterS).toBe(0)
    expect(t.begin("1.2.3.4", "a@x").retryAfterS).toBe(900)
    expect(t.begin("5.6.7.8", "A@X").retryAfterS).toBe(900) // the account is locked from anywhere
    expect(t.begin("1.2.3.4", "b@x").retryAfterS).toBe(0)
    for (let i = 0; i < 14; i++) expect(t.begin("1.2.3.4", `u${i}@x`).retryAfterS).toBe(0)
    expect(t.begin("1.2.3.4", "c@x").retryAfterS).toBeGreaterThan(0)
    clock.advance(15 * 60_000)
    expect(t.begin("1.2.3.4", "a@x").retryAfterS).toBe(0)
  })

  test("attempts count before their outcome is known: 60 begun at once, 5 admitted", () => {
    const t = new LoginThrottle(new ManualClock())
    const admitted = Array.from({ length: 60 }, () => t.begin("9.9.9.9", "admin@x")).filter((a) => a.retryAfterS === 0)
    expect(admitted.length).toBe(5)
  })

  test("a refused attempt counts nothing; a success clears the account and refunds the address", () => {
    const t = new LoginThrottle(new ManualClock(), { perIp: 3, perAccount: 2, windowMs: 60_000 })
    t.begin("1.1.1.1", "a@x")
    t.begin("1.1.1.1", "a@x")
    expect(t.begin("1.1.1.1", "a@x").retryAfterS).toBe(60) // refused: the address stays at 2
    t.succeeded("1.1.1.1", "a@x")
    expect(t.begin("1.1.1.1", "a@x").retryAfterS).toBe(0)
    expect(t.begin("1.1.1.1", "b@x").retryAfterS).toBe(0)
    expect(t.begin("1.1.1.1", "c@x").retryAfterS).toBe(60)
    t.cancelled("1.1.1.1", "b@x")
    expect(t.begin("1.1.1.1", "c@x").retryAfterS).toBe(0)
  })
})
