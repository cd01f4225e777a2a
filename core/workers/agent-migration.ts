// core/workers/agent-migration — the worker side of a migration order (protocol v2 `migrate_pool`,
// issue 17): take no new job, let those in flight finish, save the target as this worker's pool in
// worker.json, join it; not welcomed there in time, go back to the pool that sent the order.
import { logger } from "../log.ts"
import { saveMigratedPool } from "./identity.ts"
import type { MigratePoolMessage } from "./protocol.ts"

const log = logger("workers.agent")

/** What the migration needs from the agent it moves. */
export interface MigrationHost {
  dataDir: string
  /** The pool in the worker's configuration (worker.json records the move relative to it). */
  configured: string
  current(): string
  primary(): string
  setPrimary(url: string): void
  /** Welcomed by its pool and not leaving. */
  running(): boolean
  /** Draining or stopped: nothing more to do. */
  leaving(): boolean
  runningJobs(): number
  drain(deadline: number): Promise<void>
  switchTo(url: string): void
  audit(event: string, detail: Record<string, unknown>): void
}

export class AgentMigration {
  private m?: { order: string; from: string; to: string; timer?: ReturnType<typeof setTimeout> }
  /** When an order last moved this worker (ms epoch): its hello says so, for the cool-down across pools. */
  movedAt?: number

  constructor(private readonly h: MigrationHost) {}

  /** A move is under way (the failover driver stands aside; the bye says "migrating"). */
  get active() {
    return !!this.m
  }

  /**
   * `migrate_pool`: drain (≤ drain_ms, at most 60 s), save the target in worker.json, switch to it, and
   * come back (worker.json restored) if the target has not welcomed this worker within give_up_ms.
   */
  async start(msg: MigratePoolMessage) {
    const h = this.h
    if (this.m || !h.running() || !/^https?:\/\//.test(msg.target_url)) return
    const from = h.current()
    const fromPrimary = h.primary()
    const m: { order: string; from: string; to: string; timer?: ReturnType<typeof setTimeout> } = {
      order: msg.order_id,
      from,
      to: msg.target_url,
    }
    this.m = m
    h.audit("migrating", { order: msg.order_id, from, to: msg.target_url, jobs: h.runningJobs() })
    await h.drain(Date.now() + Math.min(Math.max(msg.drain_ms, 0), 60_000))
    if (h.leaving()) return
    saveMigratedPool(h.dataDir, h.configured, msg.target_url)
    h.setPrimary(msg.target_url)
    // Before the hello to the target: that pool must know at once that this worker was just moved.
    const movedBefore = this.movedAt
    this.movedAt = Date.now()
    m.timer = setTimeout(
      () => {
        if (this.m !== m || h.leaving()) return
        log.warn(`pool ${msg.target_url} did not take this worker within ${msg.give_up_ms} ms; back to ${from}`)
        h.audit("migration_abandoned", { order: msg.order_id, from, to: msg.target_url })
        saveMigratedPool(h.dataDir, h.configured, fromPrimary)
        this.movedAt = movedBefore
        h.setPrimary(fromPrimary)
        this.m = undefined
        h.switchTo(from)
      },
      Math.max(msg.give_up_ms, 500),
    )
    h.switchTo(msg.target_url)
  }

  /** Welcomed by `url`: the move is done when it is the target. */
  welcomed(url: string) {
    if (!this.m || url !== this.m.to) return
    clearTimeout(this.m.timer)
    this.h.audit("migrated", { order: this.m.order, from: this.m.from, to: url })
    this.m = undefined
  }

  stop() {
    clearTimeout(this.m?.timer)
  }
}
