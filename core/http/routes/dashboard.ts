// The dashboard: GET / (Overview), GET /overview/live (the HTMX-refreshed fragment), GET /license and
// its forms under /admin/license/*, the "coming with issue …" pages, and dashboardPage() — the one
// way for any domain to render a page inside the shell (admin, language, brand, licence banner).
import { clientIp } from "../client-ip.ts"
import { Elysia } from "elysia"
import type { Server } from "bun"
import { licenseStoreFor, type LicenseView } from "../../license/store.ts"
import { readProfile, type Profile } from "../../setup/state.ts"
import type { Scheduler } from "../../scheduler/scheduler.ts"
import { CelluleError } from "../../errors.ts"
import { resolveAdmin, type AdminIdentity } from "../guards.ts"
import type { PoolContext } from "../context.ts"
import { langOf } from "./auth.ts"
import { sseResponse } from "../sse.ts"
import { html, type SafeHtml } from "../../../views/html.ts"
import { t, type Lang } from "../../../views/i18n.ts"
import { NAV, placeholderBody, renderPage, type LicenseBanner } from "../../../views/layout.ts"
import { overviewBody, overviewLive, type OverviewData } from "../../../views/pages/overview.ts"
import { licenseBody } from "../../../views/pages/license.ts"

type Srv = Pick<Server<unknown>, "requestIP"> | null | undefined

const htmlResponse = (body: string, status = 200) =>
  new Response(body, { status, headers: { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" } })

export const loginRedirect = (request: Request) => {
  const u = new URL(request.url)
  return new Response(null, {
    status: 303,
    headers: { location: `/login?next=${encodeURIComponent(u.pathname + u.search)}` },
  })
}

export interface PageRequest {
  lang: Lang
  admin: AdminIdentity
}

/** The signed-in admin and language of a dashboard request, or null (then answer loginRedirect). */
export async function pageRequest(
  ctx: PoolContext,
  request: Request,
  server: Srv,
  form?: Record<string, unknown>,
): Promise<PageRequest | null> {
  const admin = await resolveAdmin(ctx, request, clientIp(request, server, ctx.config), form)
  return admin ? { lang: langOf(request), admin } : null
}

export interface Flash {
  ok: boolean
  text: string
}

/**
 * A dashboard form post: the admin is checked with the form's CSRF token, `run` does the work and
 * `page` renders the page again with the outcome. A CelluleError below 500 (or one `shown` accepts)
 * becomes a red flash on the page, with its status, instead of a JSON error.
 */
export async function formAction<R>(
  ctx: PoolContext,
  request: Request,
  server: Srv,
  body: unknown,
  o: {
    run: (form: Record<string, unknown>, who: PageRequest) => Promise<R>
    page: (
      who: PageRequest,
      outcome: { result: R; flash?: undefined } | { result?: undefined; flash: Flash },
      status: number,
    ) => Promise<Response>
    shown?: (e: CelluleError) => boolean
  },
): Promise<Response> {
  const form = (body ?? {}) as Record<string, unknown>
  const who = await pageRequest(ctx, request, server, form)
  if (!who) return loginRedirect(request)
  let result: R
  try {
    result = await o.run(form, who)
  } catch (e) {
    if (!(e instanceof CelluleError) || (e.status >= 500 && !o.shown?.(e))) throw e
    return o.page(who, { flash: { ok: false, text: `${e.code}: ${e.message}` } }, e.status)
  }
  return o.page(who, { result }, 200)
}

async function bannerOf(ctx: PoolContext): Promise<LicenseBanner | undefined> {
  try {
    const v = await licenseStoreFor(ctx).view()
    return {
      status: v.status === "invalid" ? "expired" : v.status,
      daysRemaining: v.days_remaining,
      graceDaysRemaining: v.grace_days_remaining,
    }
  } catch {
    return undefined
  }
}

async function brandOf(ctx: PoolContext, profile?: Profile | null) {
  const p = profile === undefined ? await readProfile(ctx.db.sql) : profile
  return { company: p?.company ?? ctx.config.poolName, logoUrl: p?.hasLogo ? "/setup/logo" : undefined }
}

/**
 * Renders `body` inside the dashboard shell for the signed-in admin, or redirects to /login.
 *   .get("/federation", ({ request, server }) => dashboardPage(ctx, request, server, { active: "federation", title: "Fédération", body: html`…` }))
 * `title` may be a function of the language; `body` too (it gets the language and the admin, whose csrf goes in forms).
 */
export async function dashboardPage(
  ctx: PoolContext,
  request: Request,
  server: Srv,
  page: {
    active: string
    title: string | ((lang: Lang) => string)
    body: SafeHtml | ((p: PageRequest) => SafeHtml | Promise<SafeHtml>)
    scripts?: string[]
    status?: number
    /** Already resolved (a form handler that checked CSRF with the form's _csrf). */
    who?: PageRequest
  },
): Promise<Response> {
  const who = page.who ?? (await pageRequest(ctx, request, server))
  if (!who) return loginRedirect(request)
  const body = typeof page.body === "function" ? await page.body(who) : page.body
  const u = new URL(request.url)
  return htmlResponse(
    renderPage({
      lang: who.lang,
      admin: { email: who.admin.email, csrf: who.admin.csrf },
      active: page.active,
      title: typeof page.title === "function" ? page.title(who.lang) : page.title,
      body,
      brand: await brandOf(ctx),
      license: await bannerOf(ctx),
      // After a form post, the language switch must come back to the page, not to the form's action.
      path: request.method === "GET" ? u.pathname + u.search : (NAV.find((n) => n.id === page.active)?.href ?? "/"),
      scripts: ["/assets/dashboard.js", ...(page.scripts ?? [])],
    }),
    page.status,
  )
}

export const dashboardRoutes = (scheduler: Scheduler) => (ctx: PoolContext) => {
  const store = licenseStoreFor(ctx)

  async function overviewData(): Promise<OverviewData> {
    const profile = await readProfile(ctx.db.sql)
    const snap = scheduler.snapshot()
    return {
      poolName: ctx.config.poolName,
      company: profile?.company ?? "",
      sector: profile?.sector ?? "",
      sites: profile?.sites ?? [],
      workers: snap.workers.map((w) => ({
        id: w.id,
        name: w.name,
        hardware: w.hardware,
        activity: w.activity,
        models: w.models,
      })),
      models: scheduler.liveModels(),
      queueDepth: snap.queue_depth,
    }
  }

  async function licensePage(request: Request, server: Srv, flash?: Flash, status = 200, who?: PageRequest) {
    return dashboardPage(ctx, request, server, {
      who,
      active: "license",
      title: (l) => t(l, "license.title"),
      status,
      scripts: ["/assets/license.js"],
      body: async ({ lang, admin }) => licenseBody(lang, await store.view().catch(() => null), admin.csrf, flash),
    })
  }

  /** Runs a licence form action; its text is the green flash. */
  const licenseAction = (
    request: Request,
    server: Srv,
    body: unknown,
    action: (admin: AdminIdentity, form: Record<string, unknown>) => Promise<string>,
  ) =>
    formAction(ctx, request, server, body, {
      run: (form, who) => action(who.admin, form),
      page: (who, o, status) => licensePage(request, server, o.flash ?? { ok: true, text: o.result }, status, who),
    })

  return new Elysia()
    .get("/", ({ request, server }) =>
      dashboardPage(ctx, request, server, {
        active: "overview",
        title: (l) => t(l, "overview.title"),
        body: async ({ lang }) => overviewBody(lang, await overviewData()),
      }),
    )
    .get("/overview/live", async ({ request, server }) => {
      const who = await pageRequest(ctx, request, server)
      if (!who) return new Response(null, { status: 401, headers: { "hx-redirect": "/login" } })
      return htmlResponse(
        html`<p class="muted"><small>${t(who.lang, "overview.live")}</small></p>${overviewLive(who.lang, await overviewData())}`
          .value,
      )
    })
    .get("/overview/stream", async ({ request, server }) => {
      // Server-Sent Events: the live fragment, pushed when it changes (checked every second).
      const who = await pageRequest(ctx, request, server)
      if (!who) throw new CelluleError("admin_auth_required", "administrator login required", 401)
      let timer: ReturnType<typeof setInterval> | undefined
      let last = ""
      return sseResponse(
        (w) => {
          const tick = async () => {
            if (w.closed) return clearInterval(timer)
            const frag =
              html`<p class="muted"><small>${t(who.lang, "overview.live")}</small></p>${overviewLive(who.lang, await overviewData())}`.value.replace(
                /\n\s*/g,
                " ",
              )
            if (frag !== last) {
              last = frag
              w.send(frag)
            }
          }
          void tick().catch(() => {})
          timer = setInterval(() => void tick().catch(() => {}), 1000)
          // A stream lives a minute (EventSource reconnects by itself): an open tab never holds a
          // pool's graceful stop for its whole grace period, nor a revoked session for long.
          setTimeout(() => {
            clearInterval(timer)
            w.close()
          }, 60_000)
        },
        () => clearInterval(timer),
      )
    })
    .get("/overview.json", async ({ request, server }) => {
      if (!(await pageRequest(ctx, request, server)))
        throw new CelluleError("admin_auth_required", "administrator login required", 401)
      return overviewData()
    })
    .get("/license", ({ request, server }) => licensePage(request, server))
    .post("/admin/license/upload", ({ request, server, body }) =>
      licenseAction(request, server, body, async (admin, form) => {
        const v: LicenseView = await store.install(String(form.token ?? ""), admin.email)
        return `${t(langOf(request), "license.installed")} ${v.tier ?? ""} · ${v.client_id ?? ""}`
      }),
    )
    .post("/admin/license/enforce", ({ request, server, body }) =>
      licenseAction(request, server, body, async (admin, form) => {
        const enabled = String(form.enabled) === "true"
        const v = await store.setEnforce(enabled, admin.email)
        return t(langOf(request), v.enforce ? "license.enforce_on" : "license.enforce_off")
      }),
    )
    .post("/admin/license/remove", ({ request, server, body }) =>
      licenseAction(request, server, body, async (admin) => {
        await store.remove(admin.email)
        return t(langOf(request), "license.status.none")
      }),
    )
    .get("/:page", ({ request, server, params }) => {
      // Pages whose issue has not landed: static routes mounted by their own plugin take precedence.
      const item = NAV.find((n) => n.href === `/${params.page}` && n.issue)
      if (!item) throw new CelluleError("not_found", "no such page", 404)
      return dashboardPage(ctx, request, server, {
        active: item.id,
        title: (l) => t(l, item.label),
        body: ({ lang }) => placeholderBody(lang, item),
      })
    })
}
