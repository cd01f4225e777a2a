// core/proxy/upstreams — the pools behind the proxy and which one takes the next request:
// least_conn for the API, a client-IP hash for the admin paths, nginx's max_fails/fail_timeout ejection.
import type { Clock } from "../clock.ts"
import { ConfigError } from "../errors.ts"
import { log } from "./_log.ts"

/** A pool URL reduced to its origin (`10.0.0.11:18081` → `http://10.0.0.11:18081`); `where` names the source in errors. */
export function normalisePoolUrl(raw: string, where: string): string {
  let u: URL
  try {
    u = new URL(raw.includes("://") ? raw : `http://${raw}`)
  } catch {
    throw new ConfigError(`${where}: "${raw}" is not a pool URL like http://10.0.0.11:18081`)
  }
  if (u.protocol !== "http:" && u.protocol !== "https:")
    throw new ConfigError(`${where}: "${raw}" must be an http(s) URL`)
  if (u.pathname !== "/" || u.search) throw new ConfigError(`${where}: "${raw}" must not have a path`)
  return u.origin
}

export type UpstreamState = "up" | "down"

export class Upstream {
  inFlight = 0
  /** WebSockets passed through to this pool (workers, live dashboards). */
  tunnels = 0
  /** Passive failures (connection errors, timeouts, 502/504) inside the current fail window. */
  private fails: number[] = []
  /** Taken out until this time (passive ejection), or by the active health check. */
  private downUntil = 0
  private checkFailed = false
  lastError?: string

  constructor(readonly url: string) {}

  available(now: number): boolean {
    return !this.checkFailed && now >= this.downUntil
  }

  state(now: number): UpstreamState {
    return this.available(now) ? "up" : "down"
  }

  /** A failed attempt; the max_fails-th inside fail_timeout takes the pool out for fail_timeout. */
  fail(now: number, why: string, maxFails: number, failTimeoutMs: number): void {
    const wasUp = this.available(now)
    this.lastError = why
    this.fails = this.fails.filter((t) => now - t < failTimeoutMs)
    this.fails.push(now)
    if (this.fails.length >= maxFails) {
      this.downUntil = now + failTimeoutMs
      this.fails = []
      if (wasUp) log.warn(`upstream ${this.url} down for ${failTimeoutMs} ms after ${maxFails} failure(s): ${why}`)
    }
  }

  /** A response came back: the failure count restarts, as in nginx. */
  succeed(): void {
    this.fails = []
  }

  /** Outcome of an active health check (GET /v1/status). */
  checked(ok: boolean, now: number, why?: string): void {
    const was = this.available(now)
    this.checkFailed = !ok
    if (ok) {
      // A pool that answers its health check is back at once, cool-down or not.
      this.downUntil = 0
      this.fails = []
    } else this.lastError = why
    const is = this.available(now)
    if (was !== is) {
      if (is) log.info(`upstream ${this.url} up (health check passed)`)
      else log.warn(`upstream ${this.url} down (health check: ${why})`)
    }
  }
}

/** FNV-1a, 32-bit: a stable, dependency-free hash for rendezvous hashing. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i)
    h = Math.imul(h, 0x01000193) >>> 0
  }
  // A final avalanche so that near-identical keys spread.
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b) >>> 0
  h ^= h >>> 13
  return h >>> 0
}

export class Upstreams {
  private list: Upstream[]
  private rr = 0

  constructor(
    urls: string[],
    private readonly clock: Clock,
    private readonly opts: { maxFails: number; failTimeoutMs: number },
  ) {
    this.list = urls.map((u) => new Upstream(u))
  }

  all(): readonly Upstream[] {
    return this.list
  }

  /** Replace the set (SIGHUP, discovery); pools kept keep their state and in-flight counts. */
  replace(urls: string[]): void {
    const old = new Map(this.list.map((u) => [u.url, u]))
    this.list = urls.map((u) => old.get(u) ?? new Upstream(u))
  }

  /**
   * The order in which to try the pools for one request. Sticky requests (a client-IP key) follow a
   * rendezvous hash, so losing one pool moves only its own clients; the rest go least-connections first.
   * Pools taken out come last: when every pool is out, they are tried anyway (nginx does the same).
   */
  plan(stickyKey?: string, by: "inFlight" | "tunnels" = "inFlight"): Upstream[] {
    const now = this.clock.now()
    const up = this.list.filter((u) => u.available(now))
    const down = this.list.filter((u) => !u.available(now))
    let ordered: Upstream[]
    if (stickyKey !== undefined) {
      const score = (u: Upstream) => fnv1a(`${stickyKey}|${u.url}`)
      ordered = [...up].sort((a, b) => score(b) - score(a))
    } else {
      // Rotate the start so ties between equally loaded pools are shared round-robin.
      const start = this.rr++ % Math.max(1, up.length)
      const rotated = [...up.slice(start), ...up.slice(0, start)]
      ordered = rotated.sort((a, b) => a[by] - b[by])
    }
    return [...ordered, ...down]
  }

  fail(u: Upstream, why: string): void {
    u.fail(this.clock.now(), why, this.opts.maxFails, this.opts.failTimeoutMs)
  }
}
