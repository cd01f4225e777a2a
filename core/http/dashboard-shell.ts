// core/http/dashboard-shell — the frame every dashboard page renders in, and the plumbing pages share:
// who is signed in (else the login redirect), form actions with CSRF and flash messages, live
// fragments (HTMX polling) and their Server-Sent Events stream. A module, not a route: pages under
// core/http/routes/pages/ call it.
import { CelluleError } from "../errors.ts"
import type { PoolServices } from "../pool/services.ts"
import { adminActor, type AuditedAction, audited } from "./audit-trail.ts"
import { clientIp } from "./client-ip.ts"
import { resolveAdmin, type AdminIdentity } from "./guards.ts"
import { langOf, type Srv } from "./session.ts"
import { sseResponse } from "./sse.ts"
import type { SafeHtml } from "../../views/html.ts"
import type { Lang } from "../../views/i18n.ts"
import { NAV, renderPage, type LicenseBanner } from "../../views/layout.ts"

export type { Srv }

export const htmlResponse = (body: string, status = 200, headers: Record<string, string> = {}) =>
  new Response(body, {
    status,
    headers: { "content-type": "text/html; charset=utf-8", "cache-control": "no-store", ...headers },
  })

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
  s: PoolServices,
  request: Request,
  server: Srv,
  form?: Record<string, unknown>,
): Promise<PageRequest | null> {
  const admin = await resolveAdmin(s, request, clientIp(request, server, s.config), form)
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
  s: PoolServices,
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
    /** The audit row of this form, written like its JSON twin's (core/http/audit-trail.ts `audited`). */
    audit?: (form: Record<string, unknown>) => AuditedAction
  },
): Promise<Response> {
  const form = (body ?? {}) as Record<string, unknown>
  const who = await pageRequest(s, request, server, form)
  if (!who) return loginRedirect(request)
  let result: R
  try {
    const run = () => o.run(form, who)
    result = o.audit
      ? await audited(s, { actor: adminActor(who.admin), request, server }, o.audit(form), run)
      : await run()
  } catch (e) {
    if (!(e instanceof CelluleError) || (e.status >= 500 && !o.shown?.(e))) throw e
    return o.page(who, { flash: { ok: false, text: `${e.code}: ${e.message}` } }, e.status)
  }
  return o.page(who, { result }, 200)
}

async function bannerOf(s: PoolServices): Promise<LicenseBanner | undefined> {
  try {
    const v = await s.license.view()
    return {
      status: v.status === "invalid" ? "expired" : v.status,
      daysRemaining: v.days_remaining,
      graceDaysRemaining: v.grace_days_remaining,
    }
  } catch {
    return undefined
  }
}

async function brandOf(s: PoolServices) {
  const p = await s.setup.readProfile()
  return { company: p?.company ?? s.config.poolName, logoUrl: p?.hasLogo ? "/setup/logo" : undefined }
}

/**
 * Renders `body` inside the dashboard shell for the signed-in admin, or redirects to /login.
 *   .get("/federation", ({ request, server }) => dashboardPage(s, request, server, { active: "federation", title: "Fédération", body: html`…` }))
 * `title` may be a function of the language; `body` too (it gets the language and the admin, whose csrf goes in forms).
 */
export async function dashboardPage(
  s: PoolServices,
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
  const who = page.who ?? (await pageRequest(s, request, server))
  if (!who) return loginRedirect(request)
  const body = typeof page.body === "function" ? await page.body(who) : page.body
  const u = new URL(request.url)
  return htmlResponse(
    renderPage({
      lang: who.lang,
      admin: { email: who.admin.email, csrf: who.admin.csrf, scoped: !!who.admin.projects },
      active: page.active,
      title: typeof page.title === "function" ? page.title(who.lang) : page.title,
      body,
      brand: await brandOf(s),
      license: await bannerOf(s),
      // After a form post, the language switch must come back to the page, not to the form's action.
      path: request.method === "GET" ? u.pathname + u.search : (NAV.find((n) => n.id === page.active)?.href ?? "/"),
      scripts: ["/assets/dashboard.js", ...(page.scripts ?? [])],
    }),
    page.status,
  )
}

/** An HTMX-polled fragment of a page: 401 with HX-Redirect to /login when the session is gone. */
export async function liveFragment(
  s: PoolServices,
  request: Request,
  server: Srv,
  render: (who: PageRequest) => Promise<string>,
): Promise<Response> {
  const who = await pageRequest(s, request, server)
  if (!who) return new Response(null, { status: 401, headers: { "hx-redirect": "/login" } })
  return htmlResponse(await render(who))
}

/** A JSON read for the dashboard's scripts: the signed-in admin only (401 admin_auth_required). */
export async function requirePageAdmin(s: PoolServices, request: Request, server: Srv): Promise<PageRequest> {
  const who = await pageRequest(s, request, server)
  if (!who) throw new CelluleError("admin_auth_required", "administrator login required", 401)
  return who
}

/**
 * Server-Sent Events for a live fragment: `render` is sent when it changes (checked every second).
 * A stream lives `lifetimeMs` (CELLULE_DASHBOARD_STREAM_MS, a minute; EventSource reconnects by itself): an open tab never holds a pool's
 * graceful stop for its whole grace period, nor a revoked session for long.
 */
export function liveStream(render: () => Promise<string>, lifetimeMs = 60_000): Response {
  let timer: ReturnType<typeof setInterval> | undefined
  let last = ""
  return sseResponse(
    (w) => {
      const tick = async () => {
        if (w.closed) return clearInterval(timer)
        const frag = (await render()).replace(/\n\s*/g, " ")
        if (frag !== last) {
          last = frag
          w.send(frag)
        }
      }
      void tick().catch(() => {})
      timer = setInterval(() => void tick().catch(() => {}), 1000)
      setTimeout(() => {
        clearInterval(timer)
        w.close()
      }, lifetimeMs)
    },
    () => clearInterval(timer),
  )
}
