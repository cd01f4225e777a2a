// core/federation/loop — a periodic task with start/stop and an explicit state, like litestream's
// replicas: one tick at a time, errors back off with jitter up to a cap, stop() awaits the tick in flight.
import type { ConsolaInstance } from "consola"

export type LoopState = "idle" | "running" | "draining" | "stopped"

export class Loop {
  state: LoopState = "idle"
  lastError: string | null = null
  ticks = 0
  private timer: ReturnType<typeof setTimeout> | undefined
  private inFlight: Promise<void> | undefined
  private failures = 0
  private kicked = false

  constructor(
    readonly name: string,
    private intervalMs: number,
    private tick: () => Promise<void>,
    private log: ConsolaInstance,
    private maxBackoffMs = Math.max(intervalMs * 8, 30_000),
  ) {}

  start(opts: { immediate?: boolean } = {}) {
    if (this.state !== "idle") return
    this.transition("running")
    this.schedule(opts.immediate ? 0 : this.intervalMs)
  }

  /** Run a tick as soon as the current one (if any) ends. */
  kick() {
    if (this.state !== "running") return
    if (this.inFlight) {
      this.kicked = true
      return
    }
    this.schedule(0)
  }

  async stop() {
    if (this.state === "stopped") return
    if (this.state === "running") this.transition("draining")
    clearTimeout(this.timer)
    await this.inFlight
    this.transition("stopped")
  }

  private transition(to: LoopState) {
    this.log.info(`${this.name} loop: ${this.state} -> ${to}`)
    this.state = to
  }

  private schedule(ms: number) {
    clearTimeout(this.timer)
    this.timer = setTimeout(() => this.run(), ms)
  }

  private run() {
    if (this.state !== "running" || this.inFlight) return
    this.inFlight = (async () => {
      try {
        await this.tick()
        this.ticks++
        if (this.failures) this.log.info(`${this.name} loop recovered after ${this.failures} failure(s)`)
        this.failures = 0
        this.lastError = null
      } catch (e) {
        this.failures++
        this.lastError = (e as Error).message
        if (this.failures === 1 || this.failures % 10 === 0)
          this.log.warn(`${this.name} loop tick failed (${this.failures}x): ${this.lastError}`)
      } finally {
        this.inFlight = undefined
      }
      if (this.state !== "running") return
      if (this.kicked) {
        this.kicked = false
        return this.schedule(0)
      }
      const backoff = this.failures
        ? Math.min(this.maxBackoffMs, this.intervalMs * 2 ** Math.min(this.failures, 10))
        : this.intervalMs
      this.schedule(backoff * (0.8 + Math.random() * 0.4))
    })()
  }
}
