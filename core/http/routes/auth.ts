// Dashboard sign-in: GET/POST /login (rate limited per IP and per account), POST /logout (CSRF),
// GET /auth/once/:token (one-time login link, ours or a trusted peer's), GET /lang/:code (persisted language choice).
// Session cookie: HttpOnly, SameSite=Strict, Secure when the client reached us over TLS.
import { Elysia } from "elysia"
import { htmlResponse as html } from "../dashboard-shell.ts"
import { LoginThrottle } from "../../auth/login-throttle.ts"
import { logger } from "../../log.ts"
import { adminActor, recordFrom } from "../audit-trail.ts"
import { clientIp } from "../client-ip.ts"
import { cookieValue, resolveAdmin, SESSION_COOKIE } from "../guards.ts"
import type { PoolServices } from "../../pool/services.ts"
import { langOf, safeNext, sessionCookie, startSession, trustOf } from "../session.ts"
import { isLang, LANG_COOKIE } from "../../../views/i18n.ts"
import { loginPage } from "../../../views/login.ts"

const log = logger("auth")

const redirect = (location: string, headers: Record<string, string> = {}) =>
  new Response(null, { status: 303, headers: { location, ...headers } })

export const authRoutes = (s: PoolServices, throttle = new LoginThrottle(s.clock)) =>
  new Elysia()
    .get("/login", async ({ request, server, query }) => {
      if (await resolveAdmin(s, request, clientIp(request, server, s.config)).catch(() => null))
        return redirect(safeNext(query.next))
      return html(loginPage({ lang: langOf(request), next: safeNext(query.next) }))
    })
    .post("/login", async ({ request, server, body }) => {
      const form = (body ?? {}) as Record<string, unknown>
      const email = typeof form.email === "string" ? form.email.trim() : ""
      const password = typeof form.password === "string" ? form.password : ""
      const next = safeNext(form.next)
      const lang = langOf(request)
      const ip = clientIp(request, server, trustOf(s)) ?? "unknown"
      const who = { actor: { kind: "admin" as const, id: email || "unknown" }, request, server }
      // Counted before the password is hashed: concurrent guesses cannot all slip under the limit.
      const { value: admin, retryAfterS } = await throttle.attempt(ip, email, () =>
        s.admins.authenticate(email, password),
      )
      if (retryAfterS > 0) {
        log.warn(`login refused (rate limit or busy) for ${email || "?"} from ${ip}`)
        await recordFrom(s, who, { action: "admin.sign_in", outcome: "denied", details: { reason: "rate_limited" } })
        return html(loginPage({ lang, next, email, error: "rate_limited", retryAfterS }), 429, {
          "retry-after": String(retryAfterS),
        })
      }
      if (!admin) {
        log.warn(`login failed for ${email || "?"} from ${ip}`)
        await recordFrom(s, who, {
          action: "admin.sign_in",
          outcome: "failure",
          details: { reason: "bad_credentials" },
        })
        return html(loginPage({ lang, next, email, error: "failed" }), 401)
      }
      log.info(`admin ${admin.email} logged in from ${ip}`)
      await recordFrom(s, { ...who, actor: adminActor(admin) }, { action: "admin.sign_in", outcome: "success" })
      return redirect(next, { "set-cookie": await startSession(s, request, server, admin.id) })
    })
    .post("/logout", async ({ request, server, body }) => {
      // resolveAdmin checks the CSRF token (form field _csrf or x-csrf-token): a cross-site page cannot log you out.
      const admin = await resolveAdmin(s, request, clientIp(request, server, s.config), body as Record<string, unknown>)
      const token = cookieValue(request, SESSION_COOKIE)
      if (admin && token) {
        await s.admins.deleteSession(token)
        await recordFrom(
          s,
          { actor: adminActor(admin), request, server },
          { action: "admin.sign_out", outcome: "success" },
        )
      }
      return redirect("/login", { "set-cookie": sessionCookie(s, request, server, "", 0) })
    })
    .get("/auth/once/:token", async ({ request, server, params }) => {
      const lang = langOf(request)
      let adminId = await s.admins.consumeLoginLink(params.token)
      let via = "login_link"
      if (!adminId) {
        // Not ours: behind the entry the browser lands on its sticky pool, not always the link's maker.
        const remote = await s.admins.consumeLoginLinkAtPeers(params.token)
        const admin = remote ? await s.admins.byEmail(remote.email) : null
        if (!remote || !admin) {
          await recordFrom(
            s,
            { actor: { kind: "admin", id: remote?.email ?? "unknown" }, request, server },
            {
              action: "admin.sign_in",
              outcome: "failure",
              details: { via: "login_link", reason: remote ? "no_such_admin" : "link_invalid" },
            },
          )
          if (!remote) return html(loginPage({ lang, next: "/", error: "link_invalid" }), 401)
          log.warn(`one-time link of ${remote.email} (made on ${remote.pool}) refused: no such administrator here`)
          return html(loginPage({ lang, next: "/", error: "link_no_admin", vars: { ...remote } }), 403)
        }
        log.info(`admin ${admin.email} logged in with a one-time link made on ${remote.pool}`)
        adminId = admin.id
        via = `login_link@${remote.pool}`
      } else log.info(`admin #${adminId} logged in with a one-time link`)
      await recordFrom(
        s,
        { actor: { kind: "admin", id: `#${adminId}` }, request, server },
        { action: "admin.sign_in", outcome: "success", details: { via } },
      )
      return redirect("/", { "set-cookie": await startSession(s, request, server, adminId) })
    })
    .get("/lang/:code", ({ params, query }) => {
      const code = isLang(params.code) ? params.code : "en"
      return redirect(safeNext(query.next), {
        "set-cookie": `${LANG_COOKIE}=${code}; Path=/; Max-Age=31536000; SameSite=Lax`,
      })
    })
