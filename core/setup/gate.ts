// core/setup/gate — the wizard gate's decision: until setup is completed, only /v1/status, the API
// docs, /setup/* and static assets answer; API clients get 503 cluster_setup_pending, browsers a 307
// to /setup/ui. Completion is read from the database with a short TTL so that another process
// completing the wizard on the same database unblocks this one within `pendingTtlMs`.
import type { Sql } from "../db/client.ts"
import type { Clock } from "../clock.ts"
import { ServiceUnavailable } from "../errors.ts"
import { isSetupComplete } from "./state.ts"

export const SETUP_URL = "/setup/ui"

/** Paths open before setup: health check, API docs, the wizard itself and the files it loads. */
const OPEN = /^\/(v1\/status|docs|redoc|openapi\.json|setup|assets|favicon\.ico)(\/|$)/

export function isOpenBeforeSetup(pathname: string): boolean {
  return pathname === "/v1/status" || OPEN.test(pathname)
}

export class SetupPending extends ServiceUnavailable {
  constructor() {
    super(
      "cluster_setup_pending",
      "the pool is not set up yet: complete the setup wizard first",
      `open ${SETUP_URL} in a browser, or run \`cellule setup --answers FILE\``,
    )
  }
  override extra() {
    return { setup_url: SETUP_URL }
  }
}

export class SetupGate {
  private complete = false
  private checkedAt = -Infinity
  private inflight: Promise<boolean> | undefined

  constructor(
    private readonly sql: Sql,
    private readonly clock: Clock,
    /** While pending, how long a "not yet" answer is reused (other processes may complete meanwhile). */
    readonly pendingTtlMs = 500,
  ) {}

  /** Once complete, always complete (re-opening needs a restart, as the guide says). */
  async isComplete(): Promise<boolean> {
    if (this.complete) return true
    if (this.clock.now() - this.checkedAt < this.pendingTtlMs) return false
    this.inflight ??= isSetupComplete(this.sql)
      .then((done) => {
        this.complete = done
        this.checkedAt = this.clock.now()
        return done
      })
      .finally(() => (this.inflight = undefined))
    return this.inflight
  }

  /** This process completed the wizard: open the gate now, without waiting for the TTL. */
  markComplete() {
    this.complete = true
  }

  /** null to let the request through, else the response to send. */
  async check(request: Request): Promise<Response | null> {
    const path = new URL(request.url).pathname
    if (isOpenBeforeSetup(path) || (await this.isComplete())) return null
    if (wantsHtml(request)) return new Response(null, { status: 307, headers: { location: SETUP_URL } })
    const err = new SetupPending()
    return new Response(JSON.stringify(err.toJSON()), {
      status: 503,
      headers: { "content-type": "application/json; charset=utf-8", "retry-after": "5" },
    })
  }
}

/** A browser navigation (Accept: text/html), not an API client or an HTMX fragment request. */
export function wantsHtml(request: Request): boolean {
  return (request.headers.get("accept") ?? "").includes("text/html")
}
