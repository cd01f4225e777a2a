// core/federation/pipeline — one peer's replication pipeline: its pulls and pushes run one at a time,
// apart from every other peer's, so a slow, frozen or dead peer never delays another. A failure backs
// off (doubling, with jitter, capped); requests made meanwhile are remembered and run at the retry.
import type { ConsolaInstance } from "consola"
import type { Clock } from "../clock.ts"

export type PipelineState = "idle" | "busy" | "backoff" | "stopped"

export interface PipelineWork {
  pull(signal: AbortSignal): Promise<void>
  push(signal: AbortSignal): Promise<void>
  /** After a failure: forget what we believed the peer holds. */
  reset(): void
}

export class PeerPipeline {
  state: PipelineState = "idle"
  failures = 0
  lastError: string | null = null
  /** When a pipeline in backoff tries again (epoch ms), else null. */
  retryAt: number | null = null
  private wantPull = false
  private wantPush = false
  private running: Promise<void> | undefined
  private timer: ReturnType<typeof setTimeout> | undefined
  private abort = new AbortController()

  constructor(
    readonly name: string,
    private work: PipelineWork,
    private opts: { baseMs: number; maxMs: number; log: ConsolaInstance; clock: Clock },
  ) {}

  /** Ask for a pull or a push; runs now unless one is in flight (then after it) or the peer is backed off. */
  request(job: "pull" | "push") {
    if (this.state === "stopped") return
    if (job === "pull") this.wantPull = true
    else this.wantPush = true
    // Busy: the running drain picks it up. Backoff: the retry does.
    if (this.state !== "idle") return
    this.running = this.drain()
  }

  async stop() {
    if (this.state === "stopped") return
    this.state = "stopped"
    clearTimeout(this.timer)
    this.timer = undefined
    this.abort.abort(new Error("federation stopping"))
    await this.running
  }

  /** The next wait after `failures` failures: doubling from baseMs, ±20 % jitter, never above maxMs. */
  static backoffMs(failures: number, baseMs: number, maxMs: number, random = Math.random): number {
    const raw = baseMs * 2 ** Math.min(failures - 1, 20)
    return Math.round(Math.min(maxMs, raw * (0.8 + random() * 0.4)))
  }

  private async drain() {
    this.state = "busy"
    try {
      while (this.state === "busy" && (this.wantPull || this.wantPush)) {
        // Pull first: what we learn of the peer's marks makes the push smaller.
        if (this.wantPull) {
          this.wantPull = false
          await this.work.pull(this.abort.signal)
        } else {
          this.wantPush = false
          await this.work.push(this.abort.signal)
        }
      }
      if (this.state !== "busy") return
      if (this.failures) this.opts.log.info(`peer ${this.name}: answering again after ${this.failures} failure(s)`)
      this.failures = 0
      this.lastError = null
      this.retryAt = null
      this.state = "idle"
    } catch (e) {
      if (this.state !== "busy") return
      this.work.reset()
      this.failures++
      this.lastError = (e as Error).message
      const wait = PeerPipeline.backoffMs(this.failures, this.opts.baseMs, this.opts.maxMs)
      if (this.failures === 1 || this.failures % 10 === 0)
        this.opts.log.warn(`peer ${this.name}: ${this.lastError}; backing off ${wait} ms (${this.failures}x)`)
      // Whatever was asked stays asked: the retry pulls and pushes again.
      this.wantPull = true
      this.wantPush = true
      this.state = "backoff"
      this.retryAt = this.opts.clock.now() + wait
      this.timer = setTimeout(() => {
        this.timer = undefined
        if (this.state === "backoff") this.running = this.drain()
      }, wait)
    }
  }
}
