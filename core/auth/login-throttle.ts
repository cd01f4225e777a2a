// core/auth/login-throttle — dashboard sign-in attempts per address and per account: a fixed window;
// past the limit, further attempts are refused until the window ends (in memory, per process).
// An attempt is counted when it begins, before the password is hashed: counting after the hash let
// 60 concurrent guesses all pass the check while the first ones were still hashing.
import type { Clock } from "../clock.ts"
import { PasswordHashingBusy } from "../crypto/password.ts"

export interface LoginLimits {
  perIp: number
  perAccount: number
  windowMs: number
}

export const DEFAULT_LOGIN_LIMITS: LoginLimits = { perIp: 20, perAccount: 5, windowMs: 15 * 60_000 }

/** A counted attempt: `retryAfterS` 0 means go ahead and check the password. */
export interface LoginAttempt {
  retryAfterS: number
}

export class LoginThrottle {
  private attempts = new Map<string, { count: number; start: number }>()

  constructor(
    private readonly clock: Clock,
    readonly limits: LoginLimits = DEFAULT_LOGIN_LIMITS,
  ) {}

  /**
   * Counts one attempt for `ip` and `account` when both are under their limit, and returns 0; otherwise
   * counts nothing and returns the seconds to wait. Synchronous: no other attempt runs between the check
   * and the count.
   */
  begin(ip: string, account: string): LoginAttempt {
    const now = this.clock.now()
    const keys = [
      [`ip:${ip}`, this.limits.perIp],
      [`acct:${account.toLowerCase()}`, this.limits.perAccount],
    ] as const
    let wait = 0
    for (const [key, max] of keys) {
      const f = this.attempts.get(key)
      if (!f) continue
      if (now - f.start >= this.limits.windowMs) this.attempts.delete(key)
      else if (f.count >= max) wait = Math.max(wait, Math.ceil((f.start + this.limits.windowMs - now) / 1000))
    }
    if (wait > 0) return { retryAfterS: wait }
    for (const [key] of keys) {
      const f = this.attempts.get(key)
      if (f) f.count++
      else this.attempts.set(key, { count: 1, start: now })
    }
    // A flood of distinct keys must not grow memory forever.
    if (this.attempts.size > 100_000) this.attempts.clear()
    return { retryAfterS: 0 }
  }

  /** A successful sign-in clears the account's attempts and gives the address its attempt back. */
  succeeded(ip: string, account: string) {
    this.attempts.delete(`acct:${account.toLowerCase()}`)
    const f = this.attempts.get(`ip:${ip}`)
    if (f && f.count > 0) f.count--
  }

  /** An attempt that never checked a password (the server was busy) does not count. */
  cancelled(ip: string, account: string) {
    for (const key of [`ip:${ip}`, `acct:${account.toLowerCase()}`]) {
      const f = this.attempts.get(key)
      if (f && f.count > 0) f.count--
    }
  }

  /**
   * One sign-in: counted first, then `check` (the password hash) runs; its value, or the seconds to wait
   * when refused (over a limit, or too many hashes already running: that attempt is not counted).
   */
  async attempt<T>(
    ip: string,
    account: string,
    check: () => Promise<T | null>,
  ): Promise<{ value: T | null; retryAfterS: number }> {
    const { retryAfterS } = this.begin(ip, account)
    if (retryAfterS > 0) return { value: null, retryAfterS }
    let value: T | null
    try {
      value = await check()
    } catch (e) {
      if (!(e instanceof PasswordHashingBusy)) throw e
      this.cancelled(ip, account)
      return { value: null, retryAfterS: e.retryAfterS }
    }
    if (value !== null) this.succeeded(ip, account)
    return { value, retryAfterS: 0 }
  }
}
