// GET /balancing — the Worker balancing page (declared headcount vs contributing machines, usage per
// API key across the cluster, the keys themselves and the anonymous-access switch), and its forms:
// POST /balancing/keys, /balancing/keys/revoke, /balancing/anonymous.
import type { AuditedAction } from "../../audit-trail.ts"
import { Elysia } from "elysia"
import type { NewKey } from "../../../auth/api-keys.ts"
import { CelluleError } from "../../../errors.ts"
import type { PoolServices } from "../../../pool/services.ts"
import {
  dashboardPage,
  formAction,
  liveFragment,
  loginRedirect,
  pageRequest,
  type PageRequest,
  type Srv,
} from "../../dashboard-shell.ts"
import {
  balancingBody,
  ordersTable,
  type BalancingData,
  type OrdersView,
  type SiteForm,
} from "../../../../views/pages/balancing.ts"
import { adminActor, audited } from "../../audit-trail.ts"
import { requireFeature } from "../../license-gate.ts"
import { t } from "../../../../views/i18n.ts"

/** The new-key form as the API's body: empty fields are "no limit", numbers must be whole and positive. */
export function newKeyFromForm(form: Record<string, unknown>): NewKey {
  const text = (k: string) => String(form[k] ?? "").trim()
  const positive = (k: string) => {
    const v = text(k)
    if (!v) return undefined
    if (!/^\d+$/.test(v) || Number(v) < 1)
      throw new CelluleError(
        "validation_failed",
        `${k} must be a whole number of at least 1, or empty for no limit`,
        400,
      )
    return Number(v)
  }
  const name = text("name")
  if (!name || name.length > 100)
    throw new CelluleError("validation_failed", "the key needs a name of 1 to 100 characters", 400)
  const models = text("models")
    .split(",")
    .map((m) => m.trim())
    .filter(Boolean)
  const priority = text("priority") || "interactive"
  if (priority !== "interactive" && priority !== "batch")
    throw new CelluleError("validation_failed", "priority must be interactive or batch", 400)
  return {
    name,
    project: text("project").slice(0, 100) || undefined,
    models: models.length ? models : undefined,
    rpm: positive("rpm"),
    tpm: positive("tpm"),
    monthly_token_budget: positive("monthly_token_budget"),
    priority,
  }
}

/**
 * The headcount form (issue 17) checked field by field, each error as a message key shown next to its
 * field; the same rules as the replicated kind "site" (core/federation/kinds/site.ts), which checks again.
 */
export function siteFromForm(form: Record<string, unknown>, pools: string[]): SiteForm {
  const v = (k: string) => String(form[k] ?? "").trim()
  const values = { site_id: v("site_id"), name: v("name"), headcount: v("headcount"), pool: v("pool") }
  const errors: SiteForm["errors"] = {}
  if (!/^[a-z0-9][a-z0-9_-]{0,62}$/.test(values.site_id)) errors.site_id = "balancer.err_site_id"
  if (!values.name || values.name.length > 200) errors.name = "balancer.err_name"
  if (!/^\d+$/.test(values.headcount) || Number(values.headcount) > 10_000_000)
    errors.headcount = "balancer.err_headcount"
  if (values.pool && !pools.includes(values.pool)) errors.pool = "balancer.err_pool"
  return { values, errors }
}

/** The migration orders as the page shows them: pool and worker names where known (issue 17). */
export async function ordersView(s: PoolServices): Promise<OrdersView | undefined> {
  const orders = s.migrations
  if (!orders) return undefined
  const names = new Map<string, string>([[orders.self, s.config.poolName]])
  for (const p of await s.peers.list().catch(() => [])) if (p.pool_name) names.set(p.atom_id, p.pool_name)
  const workers = new Map([...s.scheduler.workers.values()].map((w) => [w.id, w.name]))
  const pool = (id: string) => names.get(id) ?? id.slice(0, 12)
  return {
    executorEnabled: (await orders.settings()).executorEnabled,
    rows: (await orders.list(50)).map((o) => ({
      id: o.id,
      worker: workers.get(o.worker_id) ?? o.worker_id.slice(0, 8),
      source: pool(o.source_pool),
      mine: o.source_pool === orders.self,
      target: pool(o.target_pool),
      reason: o.reason,
      state: o.state,
      approved: !!o.approved_at,
      issued_at: o.issued_at,
      finished_at: o.finished_at,
    })),
  }
}

export const balancingPage = (s: PoolServices) => {
  const { scheduler, forwarder } = s
  const keys = s.apiKeys!
  const anonymous = s.anonymous!
  const usageSync = s.keyUsage!
  /** This pool and its trusted peers: the pools a site can name. */
  async function poolChoices() {
    const self = s.federation?.identity.atomId
    const peers = (await s.peers.list().catch(() => []))
      .filter((p) => !p.revoked_at && p.trust_level >= s.config.minTrustLevel)
      .map((p) => ({ atom_id: p.atom_id, name: p.pool_name ?? p.atom_id.slice(0, 12) }))
    return self ? [{ atom_id: self, name: s.config.poolName }, ...peers] : peers
  }
  async function balancerState(): Promise<BalancingData["balancer"]> {
    const everyS = Math.round(s.config.balancerIntervalMs / 100) / 10
    if (s.config.balancerIntervalMs <= 0) return { on: false, everyS, why: "disabled" }
    try {
      await requireFeature(s, "balancer")
      return { on: true, everyS }
    } catch {
      return { on: false, everyS, why: "unlicensed" }
    }
  }
  async function data(): Promise<BalancingData> {
    const sites = await s.peers.siteHeadcounts().catch(() => [])
    const llm = scheduler.liveModels().filter((m) => m.kind === "llm")
    const here = llm.map((m) => scheduler.capacity(m.id))
    const pools: BalancingData["pools"] = [
      {
        name: s.config.poolName,
        self: true,
        workers: scheduler.workers.size,
        slots: here.reduce((n, c) => n + c.slots, 0),
        busy: here.reduce((n, c) => n + c.busy, 0),
      },
      ...(forwarder ? (await forwarder.peersLoad()).map((p) => ({ ...p, self: false })) : []),
    ]
    // Usage of the whole cluster: this pool's rows and every trusted peer's.
    const cluster = await usageSync.clusterDaily(30)
    const usage = cluster.rows.map((r) => ({
      day: r.day,
      key: r.name ?? (r.key_id ? r.key_id.slice(0, 8) : "anonymous"),
      tokens: r.prompt_tokens + r.completion_tokens,
    }))
    const list = (await keys.list()).map((k) => ({ ...k, revoked: k.revoked_at !== null }))
    return {
      sites: [...sites],
      pools,
      usage,
      usageUnreachable: cluster.unreachable,
      keys: list,
      anonymous: await anonymous.state(),
      orders: await ordersView(s),
      poolChoices: await poolChoices(),
      balancer: s.migrations ? await balancerState() : undefined,
    }
  }
  const page = (
    request: Request,
    server: Srv,
    flash?: BalancingData["flash"],
    who?: PageRequest,
    status = 200,
    extra: Partial<BalancingData> = {},
  ) =>
    dashboardPage(s, request, server, {
      who,
      status,
      active: "balancing",
      title: (lang) => t(lang, "balancing.title"),
      body: async ({ lang, admin }) => balancingBody(lang, { ...(await data()), flash, ...extra }, admin.csrf),
    })
  /** A form on the page; `run` returns the flash shown on success. */
  const action = (
    request: Request,
    server: Srv,
    body: unknown,
    what: (form: Record<string, unknown>) => AuditedAction,
    run: (form: Record<string, unknown>, who: PageRequest) => Promise<BalancingData["flash"]>,
  ) =>
    formAction(s, request, server, body, {
      // recorded like the JSON API's twins (routes/keys.ts, routes/cluster.ts)
      audit: what,
      run,
      page: (who, o, status) => page(request, server, o.flash ?? o.result, who, status),
    })

  /** Approve or reject an order: the domain audits the transition with the admin as actor. */
  const decide = (request: Request, server: Srv, body: unknown, how: "approve" | "reject") =>
    formAction(s, request, server, body, {
      run: async (form, who) => {
        const orders = s.migrations
        if (!orders) throw new CelluleError("migration_orders_off", "this pool runs no migration orders", 404)
        const id = String(form.id ?? "")
        if (how === "approve") await orders.approve(id, adminActor(who.admin))
        else await orders.reject(id, adminActor(who.admin))
        return { ok: true, text: t(who.lang, how === "approve" ? "orders.approved_flash" : "orders.rejected_flash") }
      },
      page: (who, o, status) => page(request, server, o.flash ?? o.result, who, status),
    })

  return (
    new Elysia()
      .get("/balancing", ({ request, server }) => page(request, server))
      .get("/balancing/orders/live", ({ request, server }) =>
        liveFragment(s, request, server, async ({ lang, admin }) => {
          const v = await ordersView(s)
          return v ? ordersTable(lang, v, admin.csrf).value : ""
        }),
      )
      .post("/balancing/orders/approve", ({ request, server, body }) => decide(request, server, body, "approve"))
      .post("/balancing/orders/reject", ({ request, server, body }) => decide(request, server, body, "reject"))
      // Declared headcount per site (issue 17): the replicated kind "site", like PUT /v1/admin/sites/{site_id}.
      .post("/balancing/sites", async ({ request, server, body }) => {
        const form = (body ?? {}) as Record<string, unknown>
        const who = await pageRequest(s, request, server, form)
        if (!who) return loginRedirect(request)
        const get = new Request(request.url, { headers: request.headers })
        const site = siteFromForm(
          form,
          (await poolChoices()).map((p) => p.atom_id),
        )
        if (Object.keys(site.errors).length) return page(get, server, undefined, who, 400, { siteForm: site })
        const v = site.values
        const payload = { site_id: v.site_id, name: v.name, headcount: Number(v.headcount), pool: v.pool || null }
        try {
          await audited(
            s,
            { actor: adminActor(who.admin), request, server },
            { action: "setting.change", target: `site:${v.site_id}`, details: payload },
            () => s.federation!.publish("site", payload),
          )
        } catch (e) {
          if (!(e instanceof CelluleError) || e.status >= 500) throw e
          const flash = { ok: false, text: `${e.code}: ${e.message}`, section: "sites" as const }
          return page(get, server, flash, who, e.status, { siteForm: { values: v, errors: {} } })
        }
        const text = t(who.lang, "balancer.site_saved", { name: v.name, headcount: payload.headcount })
        return page(get, server, { ok: true, text, section: "sites" }, who)
      })
      .post("/balancing/keys", ({ request, server, body }) =>
        action(
          request,
          server,
          body,
          (form) => ({ action: "key.create", details: { name: String(form.name ?? "") } }),
          async (form, who) => {
            const { key, record } = await keys.create(newKeyFromForm(form))
            return { ok: true, text: t(who.lang, "balancing.key_created", { name: record.name }), secret: key }
          },
        ),
      )
      .post("/balancing/keys/revoke", ({ request, server, body }) =>
        action(
          request,
          server,
          body,
          (form) => ({ action: "key.revoke", target: `key:${String(form.id ?? "")}` }),
          async (form, who) => {
            await keys.revoke(String(form.id ?? ""))
            return { ok: true, text: t(who.lang, "balancing.revoked_flash") }
          },
        ),
      )
      .post("/balancing/anonymous", ({ request, server, body }) =>
        action(
          request,
          server,
          body,
          (form) => ({
            action: "setting.change",
            target: "setting:anonymous_access",
            details: { enabled: String(form.enabled) === "true" },
          }),
          async (form, who) => {
            const s = await anonymous.set(String(form.enabled) === "true")
            return { ok: true, text: t(who.lang, s.enabled ? "balancing.anon_on" : "balancing.anon_off") }
          },
        ),
      )
  )
}
