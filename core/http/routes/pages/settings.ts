// GET /settings — the Advanced settings page, and POST /settings/:key, its one form per setting: an HTMX
// post gets the setting's box back (the refusal's reason next to the field, status 400/409), a plain
// post the whole page. The JSON twin is PUT /v1/admin/settings/:key (core/http/routes/cluster.ts).
import { Elysia } from "elysia"
import { SettingInvalid } from "../../../config/cluster-settings.ts"
import type { PoolServices } from "../../../pool/services.ts"
import { dashboardPage, formAction, htmlResponse, type PageRequest, type Srv } from "../../dashboard-shell.ts"
import { t } from "../../../../views/i18n.ts"
import { settingBox, settingsBody, type FieldOutcome, type SettingItem } from "../../../../views/pages/settings.ts"

/** The form's text as the setting's JSON value: true/false for a switch, JSON for the rest. */
export function valueFromForm(type: string, raw: string): unknown {
  const text = raw.trim()
  if (type === "boolean") return text === "true" ? true : text === "false" ? false : text
  try {
    return JSON.parse(text)
  } catch (e) {
    throw new SettingInvalid(`not valid JSON: ${(e as Error).message}`)
  }
}

export const settingsPage = (s: PoolServices) => {
  const settings = s.settings!
  const branding = async (outcome?: FieldOutcome) => {
    const p = await s.setup.readProfile()
    return p ? { company: p.company, hasLogo: p.hasLogo, outcome } : undefined
  }
  const page = (request: Request, server: Srv, status = 200, outcome?: FieldOutcome, who?: PageRequest) =>
    dashboardPage(s, request, server, {
      who,
      status,
      active: "settings",
      title: (lang) => t(lang, "settings.title"),
      body: async ({ lang, admin }) =>
        settingsBody(
          lang,
          (await settings.list()) as SettingItem[],
          admin.csrf,
          await branding(outcome),
          await settings.role(),
        ),
    })

  return (
    new Elysia()
      .get("/settings", ({ request, server }) => page(request, server))
      // Company name and logo (multipart): the wizard's checks; the outcome shows in the branding box.
      .post("/settings/branding", ({ request, server, body }) =>
        formAction(s, request, server, body, {
          audit: (f) => ({
            action: "setting.change",
            target: "branding",
            details: { company: String(f.company ?? "") },
          }),
          run: (f) =>
            s.setup.updateBranding({
              company: f.company,
              logo: f.logo,
              removeLogo: String(f.remove_logo ?? "") === "true",
            }),
          page: (who, o, status) =>
            page(request, server, status, o.flash ? { ok: false, text: o.flash.text } : { ok: true, text: "✓" }, who),
        }),
      )
      .post("/settings/:key", async ({ request, server, body, params }) => {
        const key = params.key
        const current = (await settings.get(key)) as SettingItem | undefined
        const typed = String((body as Record<string, unknown> | undefined)?.value ?? "")
        return formAction(s, request, server, body, {
          audit: () => ({
            action: "setting.change",
            target: `setting:${key}`,
            details: { value: typed.slice(0, 2000) },
          }),
          run: async () => settings.change(key, valueFromForm(current?.type ?? "object", typed)),
          page: async (who, o, status) => {
            if (!request.headers.get("hx-request") || !current) return page(request, server, status)
            const outcome: FieldOutcome = o.flash
              ? { ok: false, text: o.flash.text, typed }
              : { ok: true, text: t(who.lang, "settings.saved") }
            const now = ((await settings.get(key)) as SettingItem | undefined) ?? current
            return htmlResponse(settingBox(who.lang, now, who.admin.csrf, outcome).toString(), status)
          },
          shown: (e) => e.status < 500,
        })
      })
  )
}
