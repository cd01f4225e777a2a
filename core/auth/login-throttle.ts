// core/auth/ratelimit — login attempts per IP and per account: a fixed window of failures; past the
// limit, further attempts are refused until the window ends (in memory, per process).
import type { Clock } from "../clock.ts"

export interface LoginLimits {
  perIp: number
  perAccount: number
  windowMs: number
}

export const DEFAULT_LOGIN_LIMITS: LoginLimits = { perIp: 20, perAccount: 5, windowMs: 15 * 60_000 }

export class LoginRateLimiter {
  private failures = new Map<string, { count: number; start: number }>()

  constructor(
    private readonly clock: Clock,
    readonly limits: LoginLimits = DEFAULT_LOGIN_LIMITS,
  ) {}

  /** Seconds to wait when `ip` or `account` is over its limit, else 0. */
  retryAfter(ip: string, account: string): number {
    const now = this.clock.now()
    let wait = 0
    for (const [key, max] of [
      [`ip:${ip}`, this.limits.perIp],
      [`acct:${account.toLowerCase()}`, this.limits.perAccount],
    ] as const) {
      const f = this.failures.get(key)
      if (!f) continue
      if (now - f.start >= this.limits.windowMs) this.failures.delete(key)
      else if (f.count >= max) wait = Math.max(wait, Math.ceil((f.start + this.limits.windowMs - now) / 1000))
    }
    return wait
  }

  fail(ip: string, account: string) {
    const now = this.clock.now()
    for (const key of [`ip:${ip}`, `acct:${account.toLowerCase()}`]) {
      const f = this.failures.get(key)
      if (!f || now - f.start >= this.limits.windowMs) this.failures.set(key, { count: 1, start: now })
      else f.count++
    }
    if (this.failures.size > 100_000) this.failures.clear() // a flood of distinct keys must not grow memory forever
  }

  /** A successful login clears the account's failures (not the IP's). */
  succeed(account: string) {
    this.failures.delete(`acct:${account.toLowerCase()}`)
  }
}
