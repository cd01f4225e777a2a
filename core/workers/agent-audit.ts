// core/workers/agent-audit — the worker's lifecycle events (failover transitions, upgrades): one log
// line each, a local audit.jsonl, and a queue the pool's audit log receives on next contact.
import { appendFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import type { Clock } from "../clock.ts"
import { logger } from "../log.ts"
import type { WorkerEvent } from "./protocol.ts"

const log = logger("workers.agent")

/** Events not yet delivered are capped: a worker cut off for days must not grow without bound. */
const MAX_PENDING = 500

const pendingFile = (dataDir: string) => join(dataDir, "pending-events.json")

/**
 * Record an event when no agent runs (between two agents of one process, or before an exit): the
 * next agent on this data dir delivers it to its pool at hello. Also appended to the local audit log.
 */
export function recordForNextAgent(dataDir: string, clock: Clock, event: string, detail: Record<string, unknown>) {
  const e: WorkerEvent = { at: clock.now(), event, detail }
  log.info(`${event} ${JSON.stringify(detail)}`)
  try {
    mkdirSync(dataDir, { recursive: true })
    appendFileSync(join(dataDir, "audit.jsonl"), JSON.stringify(e) + "\n")
    let queued: WorkerEvent[] = []
    try {
      queued = JSON.parse(readFileSync(pendingFile(dataDir), "utf8"))
    } catch {
      // none queued yet
    }
    writeFileSync(pendingFile(dataDir), JSON.stringify([...queued, e].slice(-MAX_PENDING)))
  } catch (err) {
    log.warn(`could not keep the event for the pool: ${(err as Error).message}`)
  }
}

export class AgentAuditTrail {
  private pending: WorkerEvent[] = []
  /** Events sent with a hello, kept until the pool's welcome says it read them. */
  private inHello: WorkerEvent[] | undefined
  /** The pending file was read but not yet delivered: it stays on disk until a welcome. */
  private fileLoaded = false

  constructor(
    private readonly dataDir: string,
    private readonly clock: Clock,
  ) {
    try {
      const queued = JSON.parse(readFileSync(pendingFile(dataDir), "utf8"))
      // The file stays until a pool welcomed the hello that carried it: a process killed in between
      // (a self-update's trial run, a SIGKILL) leaves it for the next one instead of losing it.
      if (Array.isArray(queued)) this.pending.push(...queued.slice(-MAX_PENDING))
      this.fileLoaded = true
    } catch {
      // nothing left by a previous process
    }
  }

  /** What a hello carries: the queue, held back until `welcomed` (or back in line on `helloLost`). */
  forHello(): WorkerEvent[] | undefined {
    this.inHello = this.drain()
    return this.inHello
  }

  /** The pool answered the hello: its events are in the pool's log, the file is done with. */
  welcomed() {
    this.inHello = undefined
    if (this.fileLoaded) rmSync(pendingFile(this.dataDir), { force: true })
    this.fileLoaded = false
  }

  /** The connection closed before the welcome: the hello's events go first in line again. */
  helloLost() {
    if (this.inHello) this.requeue(this.inHello)
    this.inHello = undefined
  }

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

  /** Events drained for a pool that could not take them (no open connection): first in line again. */
  requeue(events: WorkerEvent[]) {
    this.pending.unshift(...events)
    if (this.pending.length > MAX_PENDING) this.pending.splice(0, this.pending.length - MAX_PENDING)
  }

  /**
   * At stop: whatever is still queued goes to the pending file, so the next agent on this data dir (the
   * upgraded binary, the restarted service) delivers it at hello instead of it dying with this process.
   */
  persist() {
    this.helloLost()
    const events = this.drain()
    if (!events) return
    try {
      let queued: WorkerEvent[] = []
      // a file this trail loaded is already in `events`: rewritten, not appended to
      if (!this.fileLoaded)
        try {
          queued = JSON.parse(readFileSync(pendingFile(this.dataDir), "utf8"))
        } catch {
          // none queued yet
        }
      mkdirSync(this.dataDir, { recursive: true })
      writeFileSync(pendingFile(this.dataDir), JSON.stringify([...queued, ...events].slice(-MAX_PENDING)))
    } catch (err) {
      log.warn(`could not keep ${events.length} event(s) for the pool: ${(err as Error).message}`)
    }
  }
}
