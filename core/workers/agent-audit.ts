// core/workers/agent-audit — the worker's lifecycle events (failover transitions, upgrades): one log
// line each, a local audit.jsonl, and a queue the pool's audit log receives on next contact.
import { appendFileSync, mkdirSync } from "node:fs"
import { join } from "node:path"
import type { Clock } from "../clock.ts"
import { logger } from "../log.ts"
import type { WorkerEvent } from "./protocol.ts"

const log = logger("workers.agent")

/** Events not yet delivered are capped: a worker cut off for days must not grow without bound. */
const MAX_PENDING = 500

export class AgentAuditTrail {
  private pending: WorkerEvent[] = []

  constructor(
    private readonly dataDir: string,
    private readonly clock: Clock,
  ) {}

  record(event: string, detail: Record<string, unknown> = {}) {
    const e: WorkerEvent = { at: this.clock.now(), event, detail }
    log.info(`${event} ${JSON.stringify(detail)}`)
    this.pending.push(e)
    if (this.pending.length > MAX_PENDING) this.pending.shift()
    try {
      mkdirSync(this.dataDir, { recursive: true })
      appendFileSync(join(this.dataDir, "audit.jsonl"), JSON.stringify(e) + "\n")
    } catch (err) {
      log.warn(`could not write the local audit log: ${(err as Error).message}`)
    }
  }

  /** The events the pool has not heard yet (undefined when none), emptying the queue. */
  drain(): WorkerEvent[] | undefined {
    if (!this.pending.length) return undefined
    return this.pending.splice(0)
  }
}
