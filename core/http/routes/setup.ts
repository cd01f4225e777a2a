// The first-boot wizard over HTTP: GET /setup/ui (HTMX pages), POST /setup/step/:step (form or JSON,
// per-field errors), GET /setup/state (answers without password), GET /setup/logo; and the wizard
// gate (core/http/setup-gate.ts) keeps every other route closed until setup is completed.
import { isJsonRequest } from "../media-type.ts"
import { Elysia } from "elysia"
import { htmlResponse } from "../dashboard-shell.ts"
import { createHash, randomBytes, timingSafeEqual } from "node:crypto"
import { CelluleError, Forbidden } from "../../errors.ts"
import { cookieValue } from "../guards.ts"
import { SECTORS } from "../../setup/sectors.ts"
import { recordFrom } from "../audit-trail.ts"
import { previewPolicy, SetupCompleted, SetupIncomplete, StepInvalid, type SetupState } from "../../setup/state.ts"
import { isStep, MODEL_TIERS, missingSteps, RETENTION_CHOICES, STEPS, type StepId } from "../../setup/steps.ts"
import type { PoolServices } from "../../pool/services.ts"
import { hostOf, localAddresses } from "../../vip/net.ts"
import { logger } from "../../log.ts"

const log = logger("setup")
import { langOf, startSession } from "../session.ts"
import { wizardFragment, wizardPage, type WizardView } from "../../../views/setup/wizard.ts"
import { t, type Lang } from "../../../views/i18n.ts"

const isHtmx = (request: Request) => request.headers.get("hx-request") === "true"

/** Strips what must never be echoed back into a page (passwords, files). */
function echoable(input: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(input))
    if (!/password|auth_pass|_csrf/.test(k) && (typeof v === "string" || Array.isArray(v))) out[k] = v
  return out
}

/**
 * The wizard runs before any account exists, so it has its own CSRF guard: a double-submit token in a
 * SameSite=Strict cookie, echoed by every form. A page on another site cannot read the cookie, so it
 * cannot post the wizard's forms (and take over a pending pool by choosing the admin password).
 * JSON posts need no token: browsers cannot send them cross-site without a CORS preflight we never grant.
 */
export const SETUP_CSRF_COOKIE = "cellule_setup_csrf"

function setupCsrf(request: Request): { token: string; cookie?: string } {
  const existing = cookieValue(request, SETUP_CSRF_COOKIE)
  if (existing && /^[A-Za-z0-9_-]{20,64}$/.test(existing)) return { token: existing }
  const token = randomBytes(24).toString("base64url")
  return { token, cookie: `${SETUP_CSRF_COOKIE}=${token}; Path=/setup; HttpOnly; SameSite=Strict` }
}

function checkSetupCsrf(request: Request, form: Record<string, unknown>) {
  if (isJsonRequest(request)) return
  const expected = cookieValue(request, SETUP_CSRF_COOKIE)
  const got = typeof form._csrf === "string" ? form._csrf : ""
  if (
    !expected ||
    !got ||
    !timingSafeEqual(createHash("sha256").update(expected).digest(), createHash("sha256").update(got).digest())
  )
    throw new Forbidden("missing or invalid wizard CSRF token: reload /setup/ui", "csrf_invalid")
}

export const setupRoutes = (s: PoolServices) => {
  const license = s.license
  const deps = {
    installLicense: (token: string) => license.install(token, "setup wizard"),
    network: { poolHost: hostOf(s.config.poolUrl) },
  }

  async function view(
    lang: Lang,
    step: StepId,
    state: SetupState,
    extra: Partial<WizardView> = {},
  ): Promise<WizardView> {
    const policy = step === "recap" ? previewPolicy(state.answers) : null
    const lv = step === "license" ? await license.view().catch(() => null) : null
    return {
      lang,
      step,
      answers: state.answers as Record<string, any>,
      hasLogo: state.hasLogo,
      sectors: SECTORS,
      retentionChoices: RETENTION_CHOICES,
      tiers: MODEL_TIERS,
      recap: policy
        ? {
            retention:
              policy.retention_months === "unlimited"
                ? t(lang, "setup.security.unlimited")
                : t(lang, "setup.security.months", { n: policy.retention_months }),
            grade: policy.audit_grade,
            template: policy.template,
            source: policy.source,
          }
        : undefined,
      license: lv ? { tier: lv.tier, client: lv.client_id, expires: lv.expires_at, status: lv.status } : undefined,
      localAddresses:
        step === "network" ? localAddresses().map((l) => `${l.iface} ${l.address}/${l.prefix}`) : undefined,
      ...extra,
    }
  }

  const firstOpenStep = (state: SetupState): StepId => missingSteps(state.answers, state.hasAdminPassword)[0] ?? "recap"

  return new Elysia()
    .get("/setup", () => new Response(null, { status: 307, headers: { location: "/setup/ui" } }))
    .get("/setup/ui", async ({ request, query }) => {
      const state = await s.setup.read()
      if (state.completedAt) return new Response(null, { status: 303, headers: { location: "/" } })
      const step = isStep(query.step) ? query.step : firstOpenStep(state)
      const csrf = setupCsrf(request)
      return htmlResponse(
        wizardPage(await view(langOf(request), step, state, { csrf: csrf.token })),
        200,
        csrf.cookie ? { "set-cookie": csrf.cookie } : {},
      )
    })
    .get("/setup/state", async () => {
      const state = await s.setup.read()
      // Once completed, the route stays open (it is under /setup) but tells nothing about the cluster.
      if (state.completedAt) return { completed: true, completed_at: state.completedAt, steps: STEPS, missing: [] }
      return {
        completed: !!state.completedAt,
        completed_at: state.completedAt,
        steps: STEPS,
        missing: missingSteps(state.answers, state.hasAdminPassword),
        answers: state.answers,
        has_logo: state.hasLogo,
        sector_defaults_applied: state.sectorDefaultsApplied,
      }
    })
    .get("/setup/logo", async () => {
      const logo = await s.setup.readLogo()
      if (!logo) return new Response("no logo", { status: 404 })
      return new Response(logo.bytes as BodyInit, {
        // A sanitised SVG, and still no script may run if someone opens it directly.
        headers: {
          "content-type": logo.mime,
          "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:",
          "cache-control": "no-cache",
        },
      })
    })
    .post("/setup/step/:step", async ({ request, server, params, body }) => {
      const step = params.step
      if (!isStep(step))
        throw new CelluleError("not_found", `no wizard step "${step}"; steps: ${STEPS.join(", ")}`, 404)
      const input = (body ?? {}) as Record<string, unknown>
      const json = isJsonRequest(request)
      const lang = langOf(request)
      const page = async (at: StepId, extra: Partial<WizardView> = {}, status = 200) => {
        const v = await view(lang, at, await s.setup.read(), {
          csrf: cookieValue(request, SETUP_CSRF_COOKIE),
          ...extra,
        })
        // HTMX swaps the step in place; the URL follows, so a refresh comes back to the same screen.
        return isHtmx(request)
          ? htmlResponse(wizardFragment(v).value, status, { "hx-push-url": `/setup/ui?step=${at}` })
          : htmlResponse(wizardPage(v), status)
      }
      try {
        checkSetupCsrf(request, input)
        if (step === "recap") {
          if (await s.setup.isComplete()) throw new SetupCompleted()
          const done = await s.setup.complete()
          s.setupGate?.markComplete()
          // The first row of most chains: who completed the wizard, and what the sector's defaults filled.
          await recordFrom(
            s,
            { actor: { kind: "admin", id: done.adminEmail }, request, server },
            {
              action: "setup.complete",
              outcome: "success",
              details: {
                sector: done.policy.sector,
                audit_grade: done.policy.audit_grade,
                retention_months: done.policy.retention_months,
                sector_defaults_applied: done.policy.applied,
              },
            },
          )
          if (s.publishSite)
            await s.setup
              .publishSites(s.publishSite)
              .catch((e) => log.error(`could not publish the wizard's sites: ${(e as Error).message}`))
          if (json)
            return {
              completed: true,
              admin: done.adminEmail,
              sector_defaults_applied: done.policy.applied,
              policy: {
                retention_months: done.policy.retention_months,
                audit_grade: done.policy.audit_grade,
                template: done.policy.template,
              },
            }
          // The person who just chose the password is the admin: sign them in and show the dashboard.
          const cookie = await startSession(s, request, server, done.adminId)
          return new Response(null, {
            status: isHtmx(request) ? 200 : 303,
            headers: { "set-cookie": cookie, location: "/", "hx-redirect": "/" },
          })
        }
        const state = await s.setup.saveStep(step, input, deps)
        const next = STEPS[STEPS.indexOf(step) + 1]
        if (json)
          return {
            ok: true,
            step,
            next,
            missing: missingSteps(state.answers, state.hasAdminPassword),
            answers: state.answers,
          }
        return page(next)
      } catch (e) {
        if (e instanceof SetupCompleted || e instanceof Forbidden) throw e
        if (json) throw e
        if (e instanceof StepInvalid) return page(step, { submitted: echoable(input), errors: e.errors }, 400)
        if (e instanceof SetupIncomplete)
          return page(
            "recap",
            { errors: { steps: "setup_incomplete" }, errorVars: { missing: e.missing.join(", ") } },
            400,
          )
        if (e instanceof CelluleError && e.code === "admin_exists")
          return page("admin", { errors: { email: "admin_exists" } }, 409)
        throw e
      }
    })
}
