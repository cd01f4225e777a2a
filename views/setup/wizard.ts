// views/setup/wizard — the first-boot wizard: one form per step (HTMX posts it and swaps #wizard;
// without JavaScript the plain form post re-renders the page). Pure: state and errors in, HTML out.
import { html, type SafeHtml } from "../html.ts"
import { t, type Lang } from "../i18n.ts"
import { renderBare } from "../layout.ts"
import { STEPS, type StepId } from "../../core/setup/steps.ts"

// The step order is the wizard's own (core/setup/steps.ts); the view never keeps a second list.
export type WizardStep = StepId
export const WIZARD_STEPS: readonly WizardStep[] = STEPS

export interface WizardView {
  lang: Lang
  step: WizardStep
  /** Saved answers (server side), no password. */
  answers: Record<string, any>
  hasLogo: boolean
  /** What the admin just submitted, re-shown with the errors (never the password). */
  submitted?: Record<string, unknown>
  errors?: Record<string, string>
  /** Field → error code interpolation values (setup_incomplete's list of steps). */
  errorVars?: Record<string, string>
  recap?: { retention: string; grade: string; template: string; source: Record<string, string> }
  sectors: readonly string[]
  retentionChoices: readonly number[]
  tiers: readonly string[]
  license?: { tier: string | null; client: string | null; expires: string | null; status: string }
  /** The wizard's CSRF token (double-submit cookie): every form carries it. */
  csrf?: string
  /** The HA network step: this host's IPv4 addresses ("eth0 192.168.1.10/24"), a hint next to the VIP field. */
  localAddresses?: string[]
}

const err = (v: WizardView, field: string) => {
  const code = v.errors?.[field]
  return code
    ? html`<div class="error" id="err-${field.replace(/\./g, "-")}" data-field="${field}">${t(v.lang, `setup.err.${code}`, v.errorVars ?? {})}</div>`
    : html``
}
const cls = (v: WizardView, field: string) => (v.errors?.[field] ? "field-error" : "")
const val = (v: WizardView, field: string, saved: unknown) => {
  const s = v.submitted?.[field]
  return typeof s === "string" ? s : saved === undefined || saved === null ? "" : String(saved)
}

function stepsBar(v: WizardView) {
  const cur = WIZARD_STEPS.indexOf(v.step)
  return html`<ol class="steps">${WIZARD_STEPS.map(
    (s, i) =>
      html`<li class="${i === cur ? "current" : i < cur ? "done" : ""}"><a href="/setup/ui?step=${s}">${i + 1}. ${t(v.lang, `setup.step.${s}`)}</a></li>`,
  )}</ol>`
}

function form(v: WizardView, body: SafeHtml, opts: { multipart?: boolean; submit?: SafeHtml } = {}) {
  const i = WIZARD_STEPS.indexOf(v.step)
  const prev = WIZARD_STEPS[i - 1]
  return html`<form method="post" action="/setup/step/${v.step}" hx-post="/setup/step/${v.step}" hx-target="#wizard" hx-swap="innerHTML"
      ${opts.multipart ? html`enctype="multipart/form-data" hx-encoding="multipart/form-data"` : ""} data-step="${v.step}" class="wizard-form" novalidate>
    ${v.csrf ? html`<input type="hidden" name="_csrf" value="${v.csrf}">` : ""}
    ${body}
    <div class="actions">
      ${prev ? html`<a class="button secondary" href="/setup/ui?step=${prev}">${t(v.lang, "setup.back")}</a>` : ""}
      ${opts.submit ?? html`<button type="submit" name="go" value="next">${t(v.lang, v.step === "recap" ? "setup.finish" : "setup.next")}</button>`}
    </div>
  </form>`
}

function licenseStep(v: WizardView) {
  const current =
    v.license && v.license.status !== "none"
      ? html`<p class="flash" id="license-current">${t(v.lang, "license.status")}: <strong>${t(v.lang, `license.status.${v.license.status}`)}</strong> — ${v.license.tier} · ${v.license.client} · ${v.license.expires?.slice(0, 10)}</p>`
      : ""
  return form(
    v,
    html`<p>${t(v.lang, "setup.license.help")}</p>${current}
    <div class="${cls(v, "token")}">
      <label for="license-file">${t(v.lang, "license.file")}</label>
      <input type="file" id="license-file" accept=".jwt,.txt,application/jwt,text/plain" data-license-file>
      <label for="token">${t(v.lang, "license.token")}</label>
      <textarea id="token" name="token" data-license-token spellcheck="false" autocomplete="off">${val(v, "token", "")}</textarea>
      ${err(v, "token")}
    </div>
    <div class="preview" id="license-preview" hidden data-label-invalid="${t(v.lang, "license.preview_invalid")}"
      data-label-tier="${t(v.lang, "license.tier")}" data-label-client="${t(v.lang, "license.client")}" data-label-expires="${t(v.lang, "license.expires")}"
      data-label-features="${t(v.lang, "license.features")}" data-label-limits="${t(v.lang, "license.limits")}" data-label-title="${t(v.lang, "license.preview")}"></div>
    ${err(v, "mode")}`,
    {
      submit: html`<button type="submit" name="mode" value="token" id="license-use">${t(v.lang, "setup.license.use")}</button>
        <button type="submit" name="mode" value="evaluation" class="secondary" id="license-evaluation">${t(v.lang, "setup.license.evaluation")}</button>`,
    },
  )
}

function identityStep(v: WizardView) {
  const a = v.answers.identity ?? {}
  const sector = val(v, "sector", a.sector)
  return form(
    v,
    html`<div class="${cls(v, "company")}"><label for="company">${t(v.lang, "setup.identity.company")}</label>
      <input type="text" id="company" name="company" value="${val(v, "company", a.company)}" maxlength="120" autocomplete="organization">${err(v, "company")}</div>
    <div class="${cls(v, "sector")}"><label for="sector">${t(v.lang, "setup.identity.sector")}</label>
      <select id="sector" name="sector"><option value="">—</option>${v.sectors.map(
        (s) =>
          html`<option value="${s}" ${s === sector ? html`selected` : ""}>${t(v.lang, `setup.sector.${s}`)}</option>`,
      )}</select>${err(v, "sector")}</div>
    <div class="${cls(v, "logo")}"><label for="logo">${t(v.lang, "setup.identity.logo")}</label>
      ${v.hasLogo ? html`<p class="muted"><img src="/setup/logo" alt="" class="logo" style="max-height:40px"> ${t(v.lang, "setup.identity.logo_kept")}</p>` : ""}
      <input type="file" id="logo" name="logo" accept="image/png,image/jpeg,image/svg+xml">${err(v, "logo")}</div>`,
    { multipart: true },
  )
}

function topologyStep(v: WizardView) {
  const sub = v.submitted
  const names = sub
    ? ([] as unknown[]).concat(sub.site_name ?? [])
    : (v.answers.topology?.sites ?? []).map((s: { name: string }) => s.name)
  const counts = sub
    ? ([] as unknown[]).concat(sub.site_headcount ?? [])
    : (v.answers.topology?.sites ?? []).map((s: { headcount: number }) => s.headcount)
  const rows: unknown[] = names.length ? names : [""]
  return form(
    v,
    html`<p>${t(v.lang, "setup.topology.help")}</p>
    <div id="sites">${rows.map(
      (n: unknown, i: number) => html`<div class="site-row" data-site-row>
        <div class="${cls(v, `site_name.${i}`)}"><label>${t(v.lang, "setup.topology.site")}</label><input type="text" name="site_name" value="${String(n ?? "")}" maxlength="80">${err(v, `site_name.${i}`)}</div>
        <div class="${cls(v, `site_headcount.${i}`)}"><label>${t(v.lang, "setup.topology.headcount")}</label><input type="number" name="site_headcount" min="0" value="${String(counts[i] ?? "")}">${err(v, `site_headcount.${i}`)}</div>
      </div>`,
    )}</div>
    ${err(v, "sites")}
    <p><button type="button" class="secondary" data-add-site>${t(v.lang, "setup.topology.add")}</button></p>`,
  )
}

function hardwareStep(v: WizardView) {
  const a = v.answers.hardware ?? { cpu_workers: true, gpu_servers: 0 }
  const cpu = v.submitted ? v.submitted.cpu_workers !== undefined : a.cpu_workers
  return form(
    v,
    html`<div class="check"><input type="checkbox" id="cpu_workers" name="cpu_workers" value="on" ${cpu ? html`checked` : ""}><label for="cpu_workers">${t(v.lang, "setup.hardware.cpu")}</label></div>
    <div class="${cls(v, "gpu_servers")}"><label for="gpu_servers">${t(v.lang, "setup.hardware.gpu")}</label>
      <input type="number" id="gpu_servers" name="gpu_servers" min="0" value="${val(v, "gpu_servers", a.gpu_servers)}">${err(v, "gpu_servers")}</div>
    <div class="${cls(v, "provisioning_hub_url")}"><label for="provisioning_hub_url">${t(v.lang, "setup.hardware.hub")}</label>
      <input type="url" id="provisioning_hub_url" name="provisioning_hub_url" value="${val(v, "provisioning_hub_url", a.provisioning_hub_url)}">${err(v, "provisioning_hub_url")}</div>`,
  )
}

function networkStep(v: WizardView) {
  const a = v.answers.network ?? { mode: "none" }
  const mode = val(v, "vip_mode", a.mode)
  const saved = (k: string) => (a.mode === "first" ? a[k] : undefined)
  const field = (name: string, type: string, label: string, saved: unknown, extra = "") =>
    html`<div class="${cls(v, name)}"><label for="${name}">${t(v.lang, label)}</label>
      <input type="${type}" id="${name}" name="${name}" value="${type === "password" ? "" : val(v, name, saved)}" ${extra}>${err(v, name)}</div>`
  const radio = (m: string) =>
    html`<div class="check"><input type="radio" id="vip_mode-${m}" name="vip_mode" value="${m}" ${mode === m ? html`checked` : ""}><label for="vip_mode-${m}">${t(v.lang, `setup.network.${m}`)}</label></div>`
  return form(
    v,
    html`<p>${t(v.lang, "setup.network.help")}</p>
    <fieldset class="${cls(v, "vip_mode")}"><legend>${t(v.lang, "setup.network.mode")}</legend>${radio("none")}${radio("first")}${radio("join")}${err(v, "vip_mode")}</fieldset>
    <fieldset id="vip-first" data-vip-mode="first"><legend>${t(v.lang, "setup.network.first")}</legend>
      ${field("vip_address", "text", "setup.network.address", saved("address"), 'inputmode="decimal" autocomplete="off"')}
      ${v.localAddresses?.length ? html`<p class="muted" id="vip-local">${t(v.lang, "setup.network.local", { list: v.localAddresses.join(", ") })}</p>` : ""}
      ${field("vip_cidr", "text", "setup.network.cidr", saved("prefix"), 'autocomplete="off"')}
      ${field("vip_interface", "text", "setup.network.interface", saved("interface"), 'autocomplete="off"')}
      ${field("vip_vrid", "number", "setup.network.vrid", saved("vrid"), 'min="1" max="255"')}
      <p class="muted">${t(v.lang, "setup.network.password_note")}</p>
    </fieldset>
    <fieldset id="vip-join" data-vip-mode="join"><legend>${t(v.lang, "setup.network.join")}</legend>
      ${field("join_url", "url", "setup.network.join_url", a.mode === "join" ? a.joined_from : undefined)}
      ${field("join_email", "email", "setup.network.join_email", undefined, 'autocomplete="off"')}
      ${field("join_password", "password", "setup.network.join_password", undefined, 'autocomplete="off"')}
    </fieldset>`,
  )
}

function modelsStep(v: WizardView) {
  const chosen: unknown[] = v.submitted
    ? ([] as unknown[]).concat(v.submitted.tiers ?? [])
    : (v.answers.models?.tiers ?? ["fast"])
  return form(
    v,
    html`<p>${t(v.lang, "setup.models.help")}</p>
    <div class="${cls(v, "tiers")}">${v.tiers.map(
      (tier) =>
        html`<div class="check"><input type="checkbox" id="tier-${tier}" name="tiers" value="${tier}" ${chosen.includes(tier) ? html`checked` : ""}><label for="tier-${tier}">${t(v.lang, `setup.models.${tier}`)}</label></div>`,
    )}${err(v, "tiers")}</div>`,
  )
}

function securityStep(v: WizardView) {
  const saved = v.answers.security?.retention_months
  const cur = val(v, "retention_months", saved ?? "")
  const opt = (value: string, label: string) =>
    html`<option value="${value}" ${cur === value ? html`selected` : ""}>${label}</option>`
  return form(
    v,
    html`<div class="${cls(v, "retention_months")}"><label for="retention_months">${t(v.lang, "setup.security.retention")}</label>
      <select id="retention_months" name="retention_months">
        ${opt("", t(v.lang, "setup.security.default"))}
        ${v.retentionChoices.map((n) => opt(String(n), t(v.lang, "setup.security.months", { n })))}
        ${opt("unlimited", t(v.lang, "setup.security.unlimited"))}
      </select>${err(v, "retention_months")}</div>
    <p class="muted">${t(v.lang, "setup.security.keys")}</p>`,
  )
}

function adminStep(v: WizardView) {
  const a = v.answers.admin ?? {}
  return form(
    v,
    html`<div class="${cls(v, "email")}"><label for="email">${t(v.lang, "setup.admin.email")}</label>
      <input type="email" id="email" name="email" value="${val(v, "email", a.email)}" autocomplete="username">${err(v, "email")}</div>
    <div class="${cls(v, "password")}"><label for="password">${t(v.lang, "setup.admin.password")}</label>
      <input type="password" id="password" name="password" autocomplete="new-password" minlength="12">${err(v, "password")}</div>
    <div class="${cls(v, "password_confirm")}"><label for="password_confirm">${t(v.lang, "setup.admin.password_confirm")}</label>
      <input type="password" id="password_confirm" name="password_confirm" autocomplete="new-password">${err(v, "password_confirm")}</div>`,
  )
}

function vipRecap(v: WizardView): string {
  const n = v.answers.network
  if (!n || n.mode === "none") return t(v.lang, "setup.recap.vip_none")
  return n.mode === "first"
    ? t(v.lang, "setup.recap.vip_first", { address: `${n.address}/${n.prefix}`, priority: n.priority })
    : t(v.lang, "setup.recap.vip_join", {
        address: `${n.address}/${n.prefix}`,
        from: n.joined_from,
        priority: n.priority,
      })
}

function recapStep(v: WizardView) {
  const a = v.answers
  const row = (k: string, value: unknown) =>
    html`<tr><th>${k}</th><td>${value === undefined || value === null || value === "" ? "—" : String(value)}</td></tr>`
  const r = v.recap
  const src = (f: string) =>
    r
      ? html` <span class="muted">(${t(v.lang, r.source[f] === "explicit" ? "setup.recap.explicit" : "setup.recap.from_sector")})</span>`
      : ""
  return form(
    v,
    html`<p>${t(v.lang, "setup.recap.help")}</p>${err(v, "steps")}
    <table id="recap">
      ${row(t(v.lang, "setup.step.license"), a.license?.mode === "token" ? t(v.lang, "license.status.active") : a.license ? t(v.lang, "license.status.none") : undefined)}
      ${row(t(v.lang, "setup.identity.company"), a.identity?.company)}
      ${row(t(v.lang, "setup.identity.sector"), a.identity ? t(v.lang, `setup.sector.${a.identity.sector}`) : undefined)}
      ${row(t(v.lang, "overview.sites"), (a.topology?.sites ?? []).map((s: { name: string; headcount: number }) => `${s.name} (${s.headcount})`).join(", "))}
      ${row(t(v.lang, "setup.hardware.gpu"), a.hardware?.gpu_servers)}
      ${row(t(v.lang, "setup.recap.vip"), vipRecap(v))}
      ${row(t(v.lang, "setup.step.models"), (a.models?.tiers ?? []).join(", "))}
      ${row(t(v.lang, "setup.admin.email"), a.admin?.email)}
    </table>
    ${
      r
        ? html`<h2>${t(v.lang, "setup.recap.defaults")}</h2>
    <table id="sector-defaults">
      <tr><th>${t(v.lang, "setup.recap.retention")}</th><td data-field="retention">${r.retention}${src("retention_months")}</td></tr>
      <tr><th>${t(v.lang, "setup.recap.grade")}</th><td data-field="grade">${r.grade}${src("audit_grade")}</td></tr>
      <tr><th>${t(v.lang, "setup.recap.template")}</th><td data-field="template">${r.template || "—"}${src("template")}</td></tr>
    </table>`
        : ""
    }`,
  )
}

const RENDER: Record<WizardStep, (v: WizardView) => SafeHtml> = {
  license: licenseStep,
  identity: identityStep,
  topology: topologyStep,
  hardware: hardwareStep,
  network: networkStep,
  models: modelsStep,
  security: securityStep,
  admin: adminStep,
  recap: recapStep,
}

/** The #wizard fragment (what HTMX swaps in after a post). */
export function wizardFragment(v: WizardView): SafeHtml {
  const n = WIZARD_STEPS.indexOf(v.step) + 1
  return html`${stepsBar(v)}<h1 id="step-title" data-step="${v.step}">${t(v.lang, `setup.step.${v.step}`)} <small class="muted">${t(v.lang, "setup.step", { n, total: WIZARD_STEPS.length })}</small></h1>
    ${RENDER[v.step](v)}`
}

export function wizardPage(v: WizardView): string {
  return renderBare({
    lang: v.lang,
    title: t(v.lang, "setup.title"),
    path: `/setup/ui?step=${v.step}`,
    scripts: ["/assets/setup.js", "/assets/license.js"],
    body: html`<p class="muted">${t(v.lang, "setup.intro")}</p><div id="wizard">${wizardFragment(v)}</div>`,
  })
}
