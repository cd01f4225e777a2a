// core/proxy/health — the active health check: GET /v1/status on every pool each interval.
// A pool that fails it leaves the rotation at once; one that passes it comes back at once. Each check
// names the proxy (X-Cellule-Proxy, core/proxy/identity.ts) so the pool lists it on its Overview.
import type { Clock } from "../clock.ts"
import { log } from "./_log.ts"
import type { Upstreams } from "./upstreams.ts"
import { PROXY_HEADER } from "./identity.ts"

export class HealthChecker {
  state: "idle" | "running" | "stopped" = "idle"
  private timer?: ReturnType<typeof setTimeout>
  private round?: Promise<void>
  /** This proxy's X-Cellule-Proxy value, once it listens (its address is known then). */
  identity?: string

  constructor(
    private readonly upstreams: Upstreams,
    private readonly clock: Clock,
    private readonly opts: { intervalMs: number; timeoutMs: number },
  ) {}

  /** One round over every pool; resolves when all have answered or timed out. */
  async checkAll(): Promise<void> {
    await Promise.all(
      this.upstreams.all().map(async (u) => {
        try {
          const res = await fetch(`${u.url}/v1/status`, {
            signal: AbortSignal.timeout(this.opts.timeoutMs),
            redirect: "manual",
            headers: this.identity ? { [PROXY_HEADER]: this.identity } : undefined,
          })
          await res.body?.cancel().catch(() => {})
          u.checked(res.ok, this.clock.now(), res.ok ? undefined : `HTTP ${res.status}`)
        } catch (e) {
          const err = e as { code?: string; name?: string; message?: string }
          u.checked(false, this.clock.now(), err.code ?? err.name ?? err.message)
        }
      }),
    )
  }

  start(): void {
    if (this.state !== "idle") return
    this.state = "running"
    log.info(`health checks every ${this.opts.intervalMs} ms on ${this.upstreams.all().length} pool(s)`)
    const loop = () => {
      if (this.state !== "running") return
      this.round = this.checkAll().finally(() => {
        if (this.state === "running") this.timer = setTimeout(loop, this.opts.intervalMs)
      })
    }
    loop()
  }

  async stop(): Promise<void> {
    if (this.state === "stopped") return
    this.state = "stopped"
    clearTimeout(this.timer)
    await this.round?.catch(() => {})
    log.info("health checks stopped")
  }
}
