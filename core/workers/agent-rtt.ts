// core/workers/agent-rtt — the worker's side of §4.8 latency routing: while its pool asks for it
// (welcome.latency_probe_ms), measure the round trip to that pool and to the trusted peers it named
// (GET /v1/federation/ping, which answers the pool's federation id) and report it by federation id.
// Each pool keeps the minimum of its last samples (queuing and a busy CPU only add delay), and a pool
// that did not answer this round is left out: a dead or cut-off pool is never reported as close.
import { RttWindow } from "../federation/topology.ts"
import { logger } from "../log.ts"
import type { PoolRtts } from "./protocol.ts"

const log = logger("workers.agent")

/** Samples a pool needs before it is reported. */
const MIN_SAMPLES = 3

export class AgentPoolRtts {
  private windows = new Map<string, { atom: string; w: RttWindow; n: number }>()
  private last: PoolRtts = {}
  private fresh?: PoolRtts
  private timer?: ReturnType<typeof setInterval>
  private urls: string[] = []
  private running = false

  constructor(private readonly fetchImpl: typeof fetch = fetch) {}

  /** From each welcome: probe `urls` every `ms`, or stop (undefined: routing is off on that pool). */
  configure(urls: string[], ms: number | undefined) {
    clearInterval(this.timer)
    this.timer = undefined
    this.urls = [...new Set(urls.filter((u) => /^https?:\/\//.test(u)))]
    if (!ms || !this.urls.length) return
    void this.round()
    this.timer = setInterval(() => void this.round(), ms)
  }

  /** What was measured last (sent in hello, so the next pool decides with it). */
  snapshot(): PoolRtts | undefined {
    return Object.keys(this.last).length ? { ...this.last } : undefined
  }

  /** The round finished since the last call, once (heartbeat.pool_rtts: one observation each). */
  take(): PoolRtts | undefined {
    const f = this.fresh
    this.fresh = undefined
    return f
  }

  stop() {
    clearInterval(this.timer)
    this.timer = undefined
  }

  private async round() {
    if (this.running) return
    this.running = true
    try {
      const out: PoolRtts = {}
      await Promise.all(
        this.urls.map(async (url) => {
          try {
            const t0 = performance.now()
            const res = await this.fetchImpl(`${url.replace(/\/$/, "")}/v1/federation/ping`, {
              redirect: "manual",
              signal: AbortSignal.timeout(3000),
            })
            if (!res.ok) throw new Error(`answered ${res.status}`)
            const body = (await res.json()) as { atom_id?: unknown }
            const ms = performance.now() - t0
            if (typeof body.atom_id !== "string") throw new Error("no federation id")
            let e = this.windows.get(url)
            if (!e || e.atom !== body.atom_id) {
              e = { atom: body.atom_id, w: new RttWindow(8), n: 0 }
              this.windows.set(url, e)
            }
            const min = e.w.add(ms)
            // A first sample or two is mostly connection set-up and a busy pool: reported from the third.
            if (++e.n >= MIN_SAMPLES) out[e.atom] = Math.round(min * 100) / 100
          } catch (err) {
            log.debug(`latency probe of ${url}: ${(err as Error).message}`)
          }
        }),
      )
      this.last = out
      if (Object.keys(out).length) this.fresh = out
    } finally {
      this.running = false
    }
  }
}
