// GET /balancing — the Worker balancing page (declared headcount vs contributing machines, usage per
// API key across the cluster, the keys themselves and the anonymous-access switch), and its forms:
// POST /balancing/keys, /balancing/keys/revoke, /balancing/anonymous.
import type { AuditedAction } from "../../audit-trail.ts"
import { Elysia } from "elysia"
import type { NewKey } from "../../../auth/api-keys.ts"
import { CelluleError } from "../../../errors.ts"
import type { PoolServices } from "../../../pool/services.ts"
import { dashboardPage, formAction, liveFragment, type PageRequest, type Srv } from "../../dashboard-shell.ts"
import { balancingBody, ordersTable, type BalancingData, type OrdersView } from "../../../../views/pages/balancing.ts"
import { adminActor } from "../../audit-trail.ts"
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
    }
  }
  const page = (request: Request, server: Srv, flash?: BalancingData["flash"], who?: PageRequest, status = 200) =>
    dashboardPage(s, request, server, {
      who,
      status,
      active: "balancing",
      title: (lang) => t(lang, "balancing.title"),
      body: async ({ lang, admin }) => balancingBody(lang, { ...(await data()), flash }, admin.csrf),
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

  return new Elysia()
    .get("/balancing", ({ request, server }) => page(request, server))
    .get("/balancing/orders/live", ({ request, server }) =>
      liveFragment(s, request, server, async ({ lang, admin }) => {
        const v = await ordersView(s)
        return v ? ordersTable(lang, v, admin.csrf).value : ""
      }),
    )
    .post("/balancing/orders/approve", ({ request, server, body }) => decide(request, server, body, "approve"))
    .post("/balancing/orders/reject", ({ request, server, body }) => decide(request, server, body, "reject"))
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
}
