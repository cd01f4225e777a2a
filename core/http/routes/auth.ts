// Dashboard sign-in: GET/POST /login (rate limited per IP and per account), POST /logout (CSRF),
// GET /auth/once/:token (one-time login link), GET /lang/:code (persisted language choice).
// Session cookie: HttpOnly, SameSite=Strict, Secure when the client reached us over TLS.
import { Elysia } from "elysia"
import type { Server } from "bun"
import { authenticate, createSession, deleteSession } from "../../auth/admins.ts"
import { consumeLoginLink } from "../../auth/login-links.ts"
import { LoginRateLimiter } from "../../auth/ratelimit.ts"
import { logger } from "../../log.ts"
import { clientIp, forwardedOrigin } from "../client-ip.ts"
import { cookieValue, resolveAdmin, SESSION_COOKIE } from "../guards.ts"
import type { PoolContext } from "../context.ts"
import { isLang, LANG_COOKIE, pickLang, type Lang } from "../../../views/i18n.ts"
import { loginPage } from "../../../views/login.ts"

const log = logger("auth")

export const langOf = (request: Request): Lang =>
  pickLang(cookieValue(request, LANG_COOKIE), request.headers.get("accept-language"))

type Srv = Pick<Server<unknown>, "requestIP"> | null | undefined

function trust(ctx: PoolContext) {
  return ctx.config
}

export function isSecureRequest(ctx: PoolContext, request: Request, server: Srv): boolean {
  return forwardedOrigin(request, server, trust(ctx)).proto === "https"
}

export function sessionCookie(ctx: PoolContext, request: Request, server: Srv, token: string, maxAgeS: number): string {
  const secure = isSecureRequest(ctx, request, server) ? "; Secure" : ""
  return `${SESSION_COOKIE}=${encodeURIComponent(token)}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeS}${secure}`
}

/** Signs `adminId` in: a new session and its cookie. */
export async function startSession(ctx: PoolContext, request: Request, server: Srv, adminId: number): Promise<string> {
  const s = await createSession(ctx.db.sql, adminId, ctx.clock)
  return sessionCookie(ctx, request, server, s.token, Math.floor((s.expiresAt - ctx.clock.now()) / 1000))
}

const html = (body: string, status = 200, headers: Record<string, string> = {}) =>
  new Response(body, {
    status,
    headers: { "content-type": "text/html; charset=utf-8", "cache-control": "no-store", ...headers },
  })

const redirect = (location: string, headers: Record<string, string> = {}) =>
  new Response(null, { status: 303, headers: { location, ...headers } })

/** Only same-site paths: "/x" but never "//evil" or "/\\evil". */
export const safeNext = (next: unknown) => (typeof next === "string" && /^\/(?![/\\])/.test(next) ? next : "/")

export const authRoutes = (ctx: PoolContext, limiter = new LoginRateLimiter(ctx.clock)) =>
  new Elysia()
    .get("/login", async ({ request, server, query }) => {
      if (await resolveAdmin(ctx, request, clientIp(request, server, ctx.config)).catch(() => null))
        return redirect(safeNext(query.next))
      return html(loginPage({ lang: langOf(request), next: safeNext(query.next) }))
    })
    .post("/login", async ({ request, server, body }) => {
      const form = (body ?? {}) as Record<string, unknown>
      const email = typeof form.email === "string" ? form.email.trim() : ""
      const password = typeof form.password === "string" ? form.password : ""
      const next = safeNext(form.next)
      const lang = langOf(request)
      const ip = clientIp(request, server, trust(ctx)) ?? "unknown"
      const wait = limiter.retryAfter(ip, email)
      if (wait > 0) {
        log.warn(`login refused (rate limit) for ${email || "?"} from ${ip}`)
        return html(loginPage({ lang, next, email, error: "rate_limited", retryAfterS: wait }), 429, {
          "retry-after": String(wait),
        })
      }
      const admin = await authenticate(ctx.db.sql, email, password)
      if (!admin) {
        limiter.fail(ip, email)
        log.warn(`login failed for ${email || "?"} from ${ip}`)
        return html(loginPage({ lang, next, email, error: "failed" }), 401)
      }
      limiter.succeed(email)
      log.info(`admin ${admin.email} logged in from ${ip}`)
      return redirect(next, { "set-cookie": await startSession(ctx, request, server, admin.id) })
    })
    .post("/logout", async ({ request, server, body }) => {
      // resolveAdmin checks the CSRF token (form field _csrf or x-csrf-token): a cross-site page cannot log you out.
      const admin = await resolveAdmin(
        ctx,
        request,
        clientIp(request, server, ctx.config),
        body as Record<string, unknown>,
      )
      const token = cookieValue(request, SESSION_COOKIE)
      if (admin && token) await deleteSession(ctx.db.sql, token)
      return redirect("/login", { "set-cookie": sessionCookie(ctx, request, server, "", 0) })
    })
    .get("/auth/once/:token", async ({ request, server, params }) => {
      const adminId = await consumeLoginLink(ctx.db.sql, params.token, ctx.clock)
      if (!adminId) return html(loginPage({ lang: langOf(request), next: "/", error: "link_invalid" }), 401)
      log.info(`admin #${adminId} logged in with a one-time link`)
      return redirect("/", { "set-cookie": await startSession(ctx, request, server, adminId) })
    })
    .get("/lang/:code", ({ params, query }) => {
      const code = isLang(params.code) ? params.code : "en"
      return redirect(safeNext(query.next), {
        "set-cookie": `${LANG_COOKIE}=${code}; Path=/; Max-Age=31536000; SameSite=Lax`,
      })
    })
