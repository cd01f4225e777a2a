// views/pages/license — the License page: status, expiry, features and limits, upload/renew with a
// client-side preview (/assets/license.js decodes the payload before upload), enforce toggle with a confirmation.
import { html, type SafeHtml } from "../html.ts"
import { t, type Lang } from "../i18n.ts"
import { csrfField } from "../layout.ts"

export interface LicensePageData {
  status: string
  enforce: boolean
  tier: string | null
  client_id: string | null
  features: readonly string[]
  limits: Readonly<Record<string, number>>
  expires_at: string | null
  days_remaining: number | null
  problem: { code: string; message: string } | null
}

export function licensePreviewBox(lang: Lang): SafeHtml {
  return html`<div class="preview" id="license-preview" hidden data-label-invalid="${t(lang, "license.preview_invalid")}"
      data-label-tier="${t(lang, "license.tier")}" data-label-client="${t(lang, "license.client")}" data-label-expires="${t(lang, "license.expires")}"
      data-label-features="${t(lang, "license.features")}" data-label-limits="${t(lang, "license.limits")}" data-label-title="${t(lang, "license.preview")}"></div>`
}

export function licenseBody(
  lang: Lang,
  l: LicensePageData | null,
  csrf: string | undefined,
  flash?: { ok: boolean; text: string },
): SafeHtml {
  if (!l) return html`<p class="muted">${t(lang, "license.unavailable")}</p>`
  const limits = Object.entries(l.limits)
  return html`${flash ? html`<p class="flash ${flash.ok ? "" : "bad"}" id="license-flash">${flash.text}</p>` : ""}
  <table id="license-info">
    <tr><th>${t(lang, "license.status")}</th><td id="license-status" data-status="${l.status}">${t(lang, `license.status.${l.status}`)}${l.problem ? html` — <small>${l.problem.code}</small>` : ""}</td></tr>
    <tr><th>${t(lang, "license.tier")}</th><td>${l.tier ?? "—"}</td></tr>
    <tr><th>${t(lang, "license.client")}</th><td>${l.client_id ?? "—"}</td></tr>
    <tr><th>${t(lang, "license.expires")}</th><td>${l.expires_at?.slice(0, 10) ?? "—"}</td></tr>
    <tr><th>${t(lang, "license.days_remaining")}</th><td>${l.days_remaining ?? "—"}</td></tr>
    <tr><th>${t(lang, "license.features")}</th><td>${l.features.join(", ") || t(lang, "license.none")}</td></tr>
    <tr><th>${t(lang, "license.limits")}</th><td>${limits.map(([k, v]) => `${k}=${v}`).join(", ") || t(lang, "license.none")}</td></tr>
  </table>
  <h2>${t(lang, "license.upload")}</h2>
  <form method="post" action="/admin/license/upload">${csrfField(csrf)}
    <label for="license-file">${t(lang, "license.file")}</label><input type="file" id="license-file" accept=".jwt,.txt" data-license-file>
    <label for="token">${t(lang, "license.token")}</label><textarea id="token" name="token" data-license-token spellcheck="false" autocomplete="off"></textarea>
    ${licensePreviewBox(lang)}
    <div class="actions"><button type="submit" id="license-activate">${t(lang, "license.activate")}</button></div>
  </form>
  <h2>${t(lang, "license.enforce")}</h2>
  <p id="enforce-state" data-enforce="${String(l.enforce)}">${t(lang, l.enforce ? "license.enforce_on" : "license.enforce_off")}</p>
  <form method="post" action="/admin/license/enforce" data-confirm="${t(lang, l.enforce ? "license.enforce_confirm_off" : "license.enforce_confirm_on")}">${csrfField(csrf)}
    <input type="hidden" name="enabled" value="${l.enforce ? "false" : "true"}">
    <button type="submit" class="${l.enforce ? "danger" : ""}" id="enforce-toggle">${t(lang, l.enforce ? "license.enforce_disable" : "license.enforce_enable")}</button>
  </form>
  ${l.status !== "none" ? html`<form method="post" action="/admin/license/remove" data-confirm="${t(lang, "license.remove_confirm")}" class="actions">${csrfField(csrf)}<button type="submit" class="secondary">${t(lang, "license.remove")}</button></form>` : ""}`
}
