// core/setup/gate — the wizard gate's decision: until setup is completed, only /v1/status, the API
// docs, /setup/* and static assets answer; API clients get 503 cluster_setup_pending, browsers a 307
// to /setup/ui (core/http/setup-gate.ts turns the decision into a response). Completion is read from the database with a short TTL so that another process
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
  /** Sent as Retry-After: the wizard may be completed by another process at any moment. */
  readonly retryAfterS = 5
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

  /**
   * "open" lets the request through; "redirect" sends a browser to the wizard; an API client gets
   * SetupPending thrown (503 cluster_setup_pending, mapped to JSON by the HTTP edge's error mapper).
   */
  async decide(request: Request): Promise<"open" | "redirect"> {
    // Once complete, always open: the common case answers before parsing the URL.
    if (this.complete) return "open"
    const path = new URL(request.url).pathname
    if (isOpenBeforeSetup(path) || (await this.isComplete())) return "open"
    if (wantsHtml(request)) return "redirect"
    throw new SetupPending()
  }
}

/** A browser navigation (Accept: text/html), not an API client or an HTMX fragment request. */
export function wantsHtml(request: Request): boolean {
  return (request.headers.get("accept") ?? "").includes("text/html")
}
