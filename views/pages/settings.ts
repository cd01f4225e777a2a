// views/pages/settings — the Advanced settings page (§0.5): the settings an administrator changes, by
// category, each with its description, source, last change, recommendation per profile and a form whose
// error shows next to the field (HTMX swaps the one setting); then this pool's start-up configuration.
import { html, type SafeHtml } from "../html.ts"
import { t, type Lang } from "../i18n.ts"
import { csrfField } from "../layout.ts"

export interface SettingItem {
  key: string
  category: string
  editable: boolean
  locked: boolean
  type: string
  value: unknown
  default: unknown
  source: "default" | "environment" | "admin"
  env?: string
  restart: boolean
  description: { en: string; fr?: string }
  recommend?: {
    cabinet: unknown
    corporate: unknown
    /** For this cluster's sector and size (core/settings/recommend.ts). */
    sector?: { sector: string; profile: string; value: unknown; why?: { en: string; fr: string } }
  }
  last_change?: { at: string; pool: string }
}

/** The outcome of a change, shown inside the setting's box. */
export interface FieldOutcome {
  ok: boolean
  text: string
  /** The value as typed (kept in the field after a refusal). */
  typed?: string
}

const slug = (key: string) => `setting-${key.replace(/[^\w-]/g, "-")}`
const show = (v: unknown) => (v === undefined ? "—" : typeof v === "string" ? v : JSON.stringify(v))
const pretty = (v: unknown) => (typeof v === "object" && v !== null ? JSON.stringify(v, null, 2) : show(v))

function sourceLine(lang: Lang, s: SettingItem): SafeHtml {
  const source = t(lang, `settings.source.${s.source}`)
  const env = s.env && s.source === "environment" ? html` (<code>${s.env}</code>)` : ""
  const change = s.last_change
    ? html` · ${t(lang, "settings.last_change", { at: s.last_change.at.replace("T", " ").slice(0, 19), pool: s.last_change.pool })}`
    : ""
  return html`<p class="muted small"><span data-source="${s.source}">${t(lang, "settings.source")}: ${source}</span>${env}${change}</p>`
}

/** One changeable setting: what it means, where its value comes from, its form (HTMX swaps this box). */
export function settingBox(lang: Lang, s: SettingItem, csrf: string | undefined, outcome?: FieldOutcome): SafeHtml {
  const id = slug(s.key)
  const field = `${id}-value`
  const err = `${id}-error`
  const bad = outcome && !outcome.ok
  const typed = outcome?.typed ?? pretty(s.value)
  const input =
    s.type === "boolean"
      ? html`<select id="${field}" name="value" ${s.locked || !s.editable ? "disabled" : ""} ${bad ? html`aria-invalid="true" aria-describedby="${err}"` : ""}>
          <option value="true" ${typed === "true" ? "selected" : ""}>${t(lang, "settings.on")}</option>
          <option value="false" ${typed === "false" ? "selected" : ""}>${t(lang, "settings.off")}</option>
        </select>`
      : html`<textarea id="${field}" name="value" rows="4" spellcheck="false" ${s.locked || !s.editable ? "readonly" : ""} ${bad ? html`aria-invalid="true" aria-describedby="${err}"` : ""}>${typed}</textarea>`
  const sec = s.recommend?.sector
  const rec = s.recommend
    ? html`${sec ? html`<p class="small recommend-sector" data-sector="${sec.sector}">${t(lang, "settings.recommended_here", { sector: t(lang, `setup.sector.${sec.sector}`), profile: t(lang, `settings.profile.${sec.profile}`) })}: <code>${show(sec.value)}</code>${sec.why ? html` — ${sec.why[lang] ?? sec.why.en}` : ""}</p>` : ""}
      <p class="small">${t(lang, "settings.recommended")}: ${t(lang, "settings.profile.cabinet")} <code>${show(s.recommend.cabinet)}</code> · ${t(lang, "settings.profile.corporate")} <code>${show(s.recommend.corporate)}</code></p>`
    : ""
  // A satellite shows the value and where to change it, without a form that could only be refused.
  const readOnly = !s.editable && !s.locked
  return html`<section class="setting card" id="${id}" data-key="${s.key}">
    <h3><label for="${field}"><code>${s.key}</code></label>${s.restart ? html` <span class="badge">${t(lang, "settings.restart")}</span>` : ""}${s.locked ? html` <span class="badge warn">${t(lang, "settings.locked")}</span>` : ""}</h3>
    <p>${(lang === "fr" && s.description.fr) || s.description.en}</p>
    ${sourceLine(lang, s)}
    ${rec}
    <form method="post" action="/settings/${s.key}" hx-post="/settings/${s.key}" hx-target="#${id}" hx-swap="outerHTML">${csrfField(csrf)}
      ${input}
      ${bad ? html`<p class="field-error flash bad" id="${err}" role="alert">${outcome.text}</p>` : ""}
      ${outcome?.ok ? html`<p class="flash" role="status">${outcome.text}</p>` : ""}
      ${s.locked ? html`<p class="muted small">${t(lang, "settings.locked_note", { env: s.env ?? "" })}</p>` : readOnly ? html`<p class="muted small">${t(lang, "settings.satellite_field")}</p>` : html`<div class="actions"><button type="submit">${t(lang, "settings.save")}</button></div>`}
    </form>
  </section>`
}

const BRAND = {
  en: {
    title: "Branding",
    help: "The company name and logo shown in the dashboard and on the exported documentation. PNG, JPEG or SVG up to 500 KB; an SVG is cleaned of scripts and links, as in the setup wizard.",
    company: "Company name",
    logo: "Logo",
    remove: "Remove the logo",
    save: "Save the branding",
  },
  fr: {
    title: "Identité visuelle",
    help: "Le nom et le logo de l'entreprise affichés dans le tableau de bord et sur la documentation exportée. PNG, JPEG ou SVG jusqu'à 500 Ko ; un SVG est nettoyé de ses scripts et liens, comme dans l'assistant.",
    company: "Nom de l'entreprise",
    logo: "Logo",
    remove: "Retirer le logo",
    save: "Enregistrer l'identité",
  },
} as const

/**
 * Company name and logo after setup (POST /settings/branding, multipart); cluster-wide (kind
 * "branding"): a satellite shows them and where they are changed, with no form that could only be refused.
 */
export function brandingBox(
  lang: Lang,
  b: { company: string; hasLogo: boolean },
  csrf: string | undefined,
  outcome?: FieldOutcome,
  role?: { role: "master" | "satellite"; master_url: string | null },
): SafeHtml {
  const m = BRAND[lang] ?? BRAND.en
  const logo = b.hasLogo ? html`<p><img src="/setup/logo" alt="${m.logo}" style="max-height:48px"></p>` : ""
  if (role?.role === "satellite")
    return html`<section class="setting card" id="branding" data-role="satellite"><h2>${m.title}</h2>
    <p><strong>${b.company}</strong></p>${logo}
    <p class="muted small" id="branding-managed">${t(lang, "branding.satellite")}${role.master_url ? html` <a href="${role.master_url}/settings#branding">${t(lang, "branding.master_link")}</a>` : ""}</p>
    ${outcome && !outcome.ok ? html`<p class="flash bad" id="brand-error" role="alert">${outcome.text}</p>` : ""}</section>`
  return html`<section class="setting card" id="branding" data-role="master"><h2>${m.title}</h2><p>${m.help} ${t(lang, "branding.cluster_note")}</p>
    ${logo}
    <form method="post" action="/settings/branding" enctype="multipart/form-data">${csrfField(csrf)}
      <label for="brand-company">${m.company}</label><input id="brand-company" name="company" value="${b.company}" maxlength="120" required ${outcome && !outcome.ok ? html`aria-invalid="true" aria-describedby="brand-error"` : ""}>
      <label for="brand-logo">${m.logo}</label><input id="brand-logo" name="logo" type="file" accept="image/png,image/jpeg,image/svg+xml">
      <label><input type="checkbox" name="remove_logo" value="true"> ${m.remove}</label>
      ${outcome ? html`<p class="flash ${outcome.ok ? "" : "bad"}" id="brand-error" role="${outcome.ok ? "status" : "alert"}">${outcome.text}</p>` : ""}
      <div class="actions"><button type="submit">${m.save}</button></div>
    </form></section>`
}

export function settingsBody(
  lang: Lang,
  items: readonly SettingItem[],
  csrf: string | undefined,
  branding?: { company: string; hasLogo: boolean; outcome?: FieldOutcome },
  role?: { role: "master" | "satellite"; master_url: string | null },
): SafeHtml {
  const live = items.filter((s) => !s.restart)
  const boot = items.filter((s) => s.restart)
  const categories = [...new Set(live.map((s) => s.category))]
  const bootCats = [...new Set(boot.map((s) => s.category))]
  const satellite = role?.role === "satellite"
  return html`<p>${t(lang, "settings.intro")}</p>
  ${
    satellite
      ? html`<div class="flash warn" id="settings-role" data-role="satellite" role="note"><strong>${t(lang, "settings.satellite")}</strong> ${t(lang, "settings.satellite_note")} ${role.master_url ? html`<a href="${role.master_url}/settings">${role.master_url}</a>` : ""}</div>`
      : html`<p class="muted" id="settings-role" data-role="master">${t(lang, "settings.master_note")}</p>`
  }
  ${branding ? brandingBox(lang, branding, csrf, branding.outcome, role) : ""}
  <p class="muted">${t(lang, "settings.gossip_note")}</p>
  ${categories.map(
    (c) => html`<h2>${t(lang, `settings.category.${c}`)}</h2>
    ${live.filter((s) => s.category === c).map((s) => settingBox(lang, s, csrf))}`,
  )}
  <h2>${t(lang, "settings.boot")}</h2>
  <p class="muted">${t(lang, "settings.boot_note")}</p>
  ${bootCats.map(
    (c) => html`<h3>${t(lang, `settings.category.${c}`)}</h3>
    <div class="table-wrap"><table class="settings-boot">
      <thead><tr><th scope="col">${t(lang, "settings.name")}</th><th scope="col">${t(lang, "settings.value")}</th><th scope="col">${t(lang, "settings.source")}</th><th scope="col">${t(lang, "settings.meaning")}</th></tr></thead>
      <tbody>${boot
        .filter((s) => s.category === c)
        .map(
          (s) =>
            html`<tr data-key="${s.key}"><td><code>${s.env ?? s.key}</code></td><td><code>${show(s.value)}</code></td><td>${t(lang, `settings.source.${s.source}`)}</td><td>${s.description.en}</td></tr>`,
        )}</tbody>
    </table></div>`,
  )}`
}
