// core/workers/agent-failover — where the worker connects when its primary pool is gone (admin
// guide §4.6.1): the peers the primary named, the hysteresis timer that moves to one, the sticky
// check that brings it home. Decides where to go; the agent does the connecting.
import { readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import type { Clock } from "../clock.ts"
import { logger } from "../log.ts"
import { FailoverPolicy } from "./failover.ts"

const log = logger("workers.agent")

export interface FailoverSettings {
  mode: "auto" | "manual"
  failingMs: number
  downMs: number
  retryMs: number
  stickyMs: number
  failsafeMs: number
}

/** What the driver needs from the agent it steers. */
export interface FailoverHost {
  readonly primary: string
  /** The pool the agent talks to now. */
  current(): string
  /** Connected (welcomed) to `current()`. */
  joined(): boolean
  /** Draining or stopped: never move. */
  leaving(): boolean
  /** A socket to the pool is open and waiting for its welcome (the pool checks the worker id first). */
  awaitingWelcome(): boolean
  runningJobs(): number
  switchTo(url: string): void
  audit(event: string, detail: Record<string, unknown>): void
}

/**
 * The pools to fail over to: the worker's own CELLULE_PEER_POOL_URLS when set (an override), else the
 * trusted peers its pool named in welcome.peer_pool_urls. Undefined: the welcome named none to keep.
 */
export function failoverPeers(fromWelcome: unknown, override: readonly string[] = []): string[] | undefined {
  const http = (u: unknown): u is string => typeof u === "string" && /^https?:\/\//.test(u)
  if (override.length) return override.filter(http)
  return Array.isArray(fromWelcome) ? fromWelcome.filter(http) : undefined
}

export class AgentFailover {
  private peers: string[] = []
  private readonly policy: FailoverPolicy
  private timer?: ReturnType<typeof setInterval>
  private stickyTimer?: ReturnType<typeof setInterval>
  private stickyWaits = 0

  constructor(
    private readonly host: FailoverHost,
    private readonly settings: FailoverSettings,
    private readonly dataDir: string,
    clock: Clock,
    /** CELLULE_PEER_POOL_URLS on the worker: overrides the peers the pool hands over. */
    private readonly override: readonly string[] = [],
  ) {
    // The last peers the primary named: a worker restarted while its primary is down can still fail over.
    try {
      const saved = JSON.parse(readFileSync(join(dataDir, "peers.json"), "utf8")) as {
        primary: string
        peers: string[]
      }
      if (saved.primary === host.primary && Array.isArray(saved.peers))
        this.peers = saved.peers.filter((u) => typeof u === "string")
    } catch {
      // none saved yet
    }
    this.policy = new FailoverPolicy({
      clock,
      ...settings,
      onTransition: (from, to, detail) =>
        host.audit(`failover_${to.toLowerCase()}`, { from, primary: host.primary, ...detail }),
    })
  }

  start() {
    const f = this.settings
    this.timer ??= setInterval(() => this.check(), Math.max(20, Math.min(1000, f.failingMs / 4, f.downMs / 4)))
  }

  stop() {
    if (this.timer) clearInterval(this.timer)
    if (this.stickyTimer) clearInterval(this.stickyTimer)
    this.timer = this.stickyTimer = undefined
  }

  /** The primary welcomed us: remember the peers it named, reset the hysteresis. */
  primaryJoined(peerPoolUrls: unknown) {
    const peers = failoverPeers(peerPoolUrls, this.override)
    if (peers) {
      this.peers = peers
      try {
        writeFileSync(
          join(this.dataDir, "peers.json"),
          JSON.stringify({ primary: this.host.primary, peers: this.peers }),
        )
      } catch (e) {
        log.warn(`could not save the peer list: ${(e as Error).message}`)
      }
    }
    this.policy.primaryUp()
  }

  primaryLost() {
    this.policy.primaryLost()
  }

  /** DOWN and allowed: leave the retry loop on the primary and join the first bonded peer. */
  private check() {
    if (this.host.leaving() || this.host.current() !== this.host.primary || this.host.joined()) return
    // Leaving a socket that waits for its welcome would bounce a sticky return straight back to the peer.
    if (this.host.awaitingWelcome()) return
    if (!this.policy.mayFailOver()) return
    const peer = this.peers.find((p) => p !== this.host.primary)
    if (!peer) return
    this.host.audit("failover_to_peer", { primary: this.host.primary, peer })
    this.host.switchTo(peer)
  }

  /** On a peer: every sticky interval, check the primary; once it answers, go home. */
  startSticky() {
    if (this.stickyTimer) return
    const onPrimary = () => this.host.current() === this.host.primary
    this.stickyTimer = setInterval(async () => {
      if (onPrimary()) {
        clearInterval(this.stickyTimer)
        this.stickyTimer = undefined
        return
      }
      const ok = await fetch(`${this.host.primary}/v1/status`, {
        signal: AbortSignal.timeout(Math.min(5000, this.settings.stickyMs)),
      })
        .then((r) => r.ok)
        .catch(() => false)
      if (!ok || onPrimary() || this.host.leaving()) return
      // Let the peer's in-flight jobs finish first (up to three sticky intervals).
      if (this.host.runningJobs() > 0 && this.stickyWaits++ < 3) return
      this.stickyWaits = 0
      clearInterval(this.stickyTimer)
      this.stickyTimer = undefined
      this.host.audit("sticky_return", { primary: this.host.primary, peer: this.host.current() })
      this.host.switchTo(this.host.primary)
    }, this.settings.stickyMs)
  }
}
