// Test support for the wizard and dashboard in-process: a migrated embedded database, the shell's
// routes (gate, wizard, login, dashboard) plus /v1/workers, and a cookie-keeping client.
import { buildApp, handle, withHooks } from "../../core/http/app.ts"
import { poolServices } from "../../core/pool/services.ts"
import { loadConfig } from "../../core/config/index.ts"
import { ManualClock } from "../../core/clock.ts"
import { Scheduler } from "../../core/scheduler/scheduler.ts"
import { SetupGate } from "../../core/setup/gate.ts"
import { workerRoutes } from "../../core/http/routes/workers.ts"
import { assetRoutes } from "../../core/http/routes/assets.ts"
import { setupRoutes } from "../../core/http/routes/setup.ts"
import { authRoutes } from "../../core/http/routes/auth.ts"
import { overviewPage } from "../../core/http/routes/pages/overview.ts"
import { licensePage } from "../../core/http/routes/pages/license.ts"
import { auditPage } from "../../core/http/routes/pages/audit.ts"
import { placeholderPage } from "../../core/http/routes/pages/placeholder.ts"
import { projectsPage } from "../../core/http/routes/pages/projects.ts"
import { documentationPage } from "../../core/http/routes/pages/documentation.ts"
import { modelsPage } from "../../core/http/routes/pages/models.ts"
import { LicenseStore } from "../../core/license/store.ts"
import { testDatabase } from "./db.ts"
import { createRag } from "../../core/rag/index.ts"
import type { Database } from "../../core/db/client.ts"

/**
 * The shell on a migrated embedded database. Pass `db` to reuse one (starting a database costs
 * seconds): its setup, admins and licence are wiped first, so every app starts at first boot.
 */
export async function shellApp(
  opts: { pubkeyHex?: string; env?: Record<string, string>; db?: Database; rag?: boolean } = {},
) {
  const db = opts.db ?? (await testDatabase())
  if (opts.db)
    await db.sql.begin(async (tx) => {
      await tx`delete from cluster_setup_state`
      await tx`delete from cluster_profile`
      await tx`delete from cluster_sites`
      await tx`delete from admin_users`
      await tx`update cluster_license set token = null, client_id = null, tier = null, expires_at = null, revoked = false, enforce = true`
    })
  const clock = new ManualClock(Date.UTC(2026, 5, 1))
  const config = loadConfig("pool", {}, { POOL_NAME: "unit-pool", ...opts.env })
  const license = new LicenseStore(db.sql, { clock, pubkeyHex: opts.pubkeyHex ?? "0".repeat(64), refreshMs: 0 })
  const scheduler = new Scheduler({ clock, maxQueue: 0, queueTimeoutMs: 1000, heartbeatMs: 1000 })
  const gate = new SetupGate(db.sql, clock, 0)
  // With `rag`: projects and documents, no embedder (documents wait; search is full-text only).
  const rag = opts.rag
    ? createRag(db.sql, clock, config, {
        embeddings: {
          model: () => null,
          slots: () => 0,
          countTokens: async () => [],
          embed: async () => {
            throw new Error("no embedder in the shell")
          },
        },
      })
    : undefined
  const ctx = poolServices({ config, db, clock, license, scheduler, setupGate: gate, rag })
  // The wizard, sign-in and dashboard shell of the pool's mount table, with /v1/workers.
  const app = buildApp(
    ctx,
    withHooks(
      workerRoutes,
      assetRoutes,
      setupRoutes,
      authRoutes,
      overviewPage,
      licensePage,
      auditPage,
      projectsPage,
      documentationPage,
      modelsPage,
      placeholderPage,
    ),
  )
  return { app, ctx, db, clock, gate, license, client: () => new Client(app) }
}

/** Sends requests to the in-process app, keeping cookies like a browser. */
export class Client {
  cookies = new Map<string, string>()
  constructor(private app: ReturnType<typeof buildApp>) {}

  async req(
    path: string,
    init: RequestInit & { form?: Record<string, string | string[]> | FormData; json?: unknown } = {},
  ): Promise<Response> {
    const headers = new Headers(init.headers)
    let body = init.body
    if (init.json !== undefined) {
      headers.set("content-type", "application/json")
      body = JSON.stringify(init.json)
    } else if (init.form instanceof FormData) {
      if (path.startsWith("/setup/") && !init.form.has("_csrf")) init.form.set("_csrf", await this.setupCsrf())
      body = init.form
    } else if (init.form) {
      if (path.startsWith("/setup/") && !("_csrf" in init.form))
        init.form = { ...init.form, _csrf: await this.setupCsrf() }
      const p = new URLSearchParams()
      for (const [k, v] of Object.entries(init.form)) for (const x of ([] as string[]).concat(v)) p.append(k, x)
      headers.set("content-type", "application/x-www-form-urlencoded")
      body = p.toString()
    }
    if (this.cookies.size) headers.set("cookie", [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; "))
    const res = await handle(
      this.app,
      new Request(`http://localhost${path}`, {
        ...init,
        headers,
        body,
        method: init.method ?? (init.form || init.json !== undefined || body ? "POST" : "GET"),
      }),
    )
    for (const c of res.headers.getSetCookie()) {
      const [kv] = c.split(";")
      const i = kv.indexOf("=")
      const v = kv.slice(i + 1)
      if (/Max-Age=0/i.test(c) || !v) this.cookies.delete(kv.slice(0, i))
      else this.cookies.set(kv.slice(0, i), v)
    }
    return res
  }

  /** The wizard's CSRF token (cookie set by GET /setup/ui), as its forms carry it. */
  async setupCsrf(): Promise<string> {
    if (!this.cookies.has("cellule_setup_csrf")) await this.req("/setup/ui")
    return this.cookies.get("cellule_setup_csrf") ?? "none"
  }

  /** The CSRF token of the current session, read from a dashboard page. */
  async csrf(): Promise<string> {
    const page = await (await this.req("/", { headers: { accept: "text/html" } })).text()
    const m = page.match(/name="_csrf" value="([^"]+)"/)
    if (!m) throw new Error("no CSRF token on the page (not logged in?)")
    return m[1]
  }
}

/** A full set of valid step inputs, as the wizard's forms send them. */
export const FORM_STEPS: [string, Record<string, string | string[]>][] = [
  ["license", { mode: "evaluation" }],
  ["identity", { company: "Dupont & Associés", sector: "LAW" }],
  ["topology", { site_name: ["Paris", "Lyon"], site_headcount: ["40", "12"] }],
  ["hardware", { cpu_workers: "on", gpu_servers: "1", provisioning_hub_url: "" }],
  ["models", { tiers: ["fast", "reasoning"] }],
  ["security", { retention_months: "" }],
  [
    "admin",
    { email: "it@dupont.example", password: "correct-horse-battery", password_confirm: "correct-horse-battery" },
  ],
]
