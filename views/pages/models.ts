// views/pages/models — the Models page (issue 18, admin guide §4.9): upload a GGUF with a progress bar
// (views/assets/models.js streams the file to POST /v1/admin/models), the catalogue with each model's
// parsed header and behaviour (instruct recommended; thinking and base models warned), deletion with
// confirmation, assignment per hardware class and per tier; on a satellite, the copy of each file from
// the catalogue master. <section id="model-probe"> holds the §4.9 guidance table and each stored file's
// probe (views/pages/model-probe.ts) with its start / accept forms.
import type { CatalogueEntry } from "../../core/catalog/catalogue.ts"
import type { ProbeResult } from "../../core/catalog/probe.ts"
import { modelGuidanceSection, modelProbeSection } from "./model-probe.ts"
import { html, type SafeHtml } from "../html.ts"
import { t, type Lang } from "../i18n.ts"
import { csrfField } from "../layout.ts"

export interface Flash {
  ok: boolean
  text: string
}

export interface ModelsPageData {
  entries: CatalogueEntry[]
  classes: Record<string, string>
  tiers: Record<string, string>
  hardwareClasses: readonly string[]
  tierNames: readonly string[]
  /** Master / satellite (§4.6.3). */
  role?: { role: "master" | "satellite"; masterUrl: string | null; epoch: number }
  csrf?: string
  flash?: Flash
  /** Each stored file's last probe (null: never probed); absent: the pool has no probe. */
  probes?: Record<string, ProbeResult | null>
}

const flashOf = (f?: Flash) => (f ? html`<p class="flash ${f.ok ? "" : "bad"}" id="models-flash">${f.text}</p>` : "")

function size(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(1)} GB`
  if (bytes >= 1024 ** 2) return `${(bytes / 1024 ** 2).toFixed(1)} MB`
  return `${Math.ceil(bytes / 1024)} KB`
}

function params(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)} B`
  if (n >= 1e6) return `${(n / 1e6).toFixed(0)} M`
  return `${Math.round(n / 1e3)} K`
}

function behaviour(lang: Lang, e: CatalogueEntry): SafeHtml {
  if (!e.header) return html`<span class="bad">${t(lang, "models.header_unreadable")}</span>`
  const b = e.header.behaviour
  const key =
    b === "thinking"
      ? "models.behaviour.thinking"
      : b === "base"
        ? "models.behaviour.base"
        : "models.behaviour.instruct"
  const warn = b === "thinking" ? "models.warn.thinking" : b === "base" ? "models.warn.base" : ""
  return html`<span class="behaviour ${b === "instruct" ? "ok" : "bad"}" data-behaviour="${b}">${t(lang, key)}</span>${
    warn ? html`<br><small class="warning">${t(lang, warn)}</small>` : ""
  }`
}

function assignForm(
  lang: Lang,
  kind: "class" | "tier",
  target: string,
  current: string | undefined,
  files: string[],
  csrf?: string,
): SafeHtml {
  return html`<form class="inline assign" method="post" action="/models/assign" data-kind="${kind}" data-target="${target}">${csrfField(csrf)}
    <input type="hidden" name="kind" value="${kind}"><input type="hidden" name="target" value="${target}">
    <label for="assign-${kind}-${target}">${target}</label>
    <select id="assign-${kind}-${target}" name="file_name">
      ${current ? "" : html`<option value="" selected>—</option>`}
      ${files.map((f) => html`<option value="${f}" ${f === current ? "selected" : ""}>${f}</option>`)}
    </select>
    <button type="submit" class="secondary">${t(lang, "models.assign")}</button></form>`
}

export function modelsBody(lang: Lang, d: ModelsPageData): SafeHtml {
  const files = d.entries.map((e) => e.file_name)
  return html`${flashOf(d.flash)}
  ${
    d.role
      ? html`<section id="catalogue-role" data-role="${d.role.role}">
    <p>${d.role.role === "master" ? t(lang, "models.role.master") : t(lang, "models.role.satellite", { url: d.role.masterUrl ?? "?" })}</p>
    ${
      d.role.role === "satellite"
        ? html`<form method="post" action="/models/promote-master" data-confirm="${t(lang, "models.promote_confirm")}">${csrfField(d.csrf)}
      <button type="submit" class="secondary" id="promote-master">${t(lang, "models.promote")}</button></form>`
        : ""
    }</section>`
      : ""
  }
  <section id="guidance"><p class="muted">${t(lang, "models.guidance")}</p></section>
  <section id="upload">
    <h2>${t(lang, "models.upload")}</h2>
    <form id="model-upload-form" method="post" action="/v1/admin/models"
      data-api="/v1/admin/models" data-done="${t(lang, "models.upload_done")}" data-duplicate="${t(lang, "models.upload_duplicate")}"
      data-failed="${t(lang, "models.upload_failed")}" data-nofile="${t(lang, "models.err.file_required")}">${csrfField(d.csrf)}
      <label for="model-file">${t(lang, "models.file")}</label><input id="model-file" name="file" type="file" accept=".gguf">
      <div class="actions"><button type="submit" id="model-upload-button">${t(lang, "models.upload_button")}</button>
        <progress id="model-upload-progress" max="100" value="0" hidden></progress> <span id="model-upload-pct" aria-live="polite"></span></div>
      <p id="model-upload-msg" class="muted" aria-live="polite"></p>
    </form>
  </section>
  <section id="catalogue">
    <h2>${t(lang, "models.catalogue")}</h2>
    ${
      d.entries.length
        ? html`<table id="models-table"><thead><tr><th>${t(lang, "models.name")}</th><th>${t(lang, "models.size")}</th><th>${t(lang, "models.architecture")}</th><th>${t(lang, "models.parameters")}</th><th>${t(lang, "models.quantization")}</th><th>${t(lang, "models.context")}</th><th>${t(lang, "models.behaviour")}</th><th>${t(lang, "models.assigned")}</th><th></th></tr></thead>
      <tbody>${d.entries.map(
        (
          e,
        ) => html`<tr data-model="${e.file_name}"><td>${e.file_name}<br><small class="muted" title="${e.sha256}">sha256 ${e.sha256.slice(0, 12)}…</small>${copyState(lang, e)}</td>
        <td>${size(e.size)}</td><td>${e.header?.architecture ?? "—"}</td><td>${e.header ? params(e.header.parameter_count) : "—"}</td>
        <td>${e.header?.quantization ?? "—"}</td><td>${e.header?.context_length ?? "—"}</td><td>${behaviour(lang, e)}</td>
        <td class="assigned">${[...e.assignments.hardware_classes, ...e.assignments.tiers].join(", ") || "—"}</td>
        <td><form class="inline" method="post" action="/models/${e.file_name}/delete" data-confirm="${t(lang, "models.delete_confirm", { name: e.file_name })}">${csrfField(d.csrf)}<button type="submit" class="secondary delete-model">${t(lang, "models.delete")}</button></form></td></tr>`,
      )}</tbody></table>`
        : html`<p class="muted" id="models-empty">${t(lang, "models.empty")}</p>`
    }
  </section>
  <section id="assignments">
    <h2>${t(lang, "models.by_class")}</h2>
    <div id="class-assignments">${d.hardwareClasses.map((c) => assignForm(lang, "class", c, d.classes[c], files, d.csrf))}</div>
    <h2>${t(lang, "models.by_tier")}</h2>
    <div id="tier-assignments">${d.tierNames.map((x) => assignForm(lang, "tier", x, d.tiers[x], files, d.csrf))}</div>
  </section>
  <section id="model-probe" data-slot="probe">
    ${modelGuidanceSection(lang, files)}
    ${
      d.probes
        ? html`<h2>${t(lang, "models.probes")}</h2>${Object.entries(d.probes).map(([f, probe]) =>
            modelProbeSection(lang, {
              fileName: f,
              probe,
              startAction: `/models/${f}/probe`,
              acceptAction: `/models/${f}/probe/accept`,
              csrf: d.csrf,
            }),
          )}`
        : ""
    }</section>`
}

/** A satellite's copy of a file from the master: in progress, failed (it resumes), or nothing to say. */
function copyState(lang: Lang, e: CatalogueEntry): SafeHtml | "" {
  const c = e.copy
  if (!c || c.state === "done") return ""
  return c.state === "failed"
    ? html`<br><small class="bad" data-copy="failed">${t(lang, "models.copy.failed", { error: c.error ?? "" })}</small>`
    : html`<br><small class="muted" data-copy="copying">${t(lang, "models.copy.copying", {
        pct: String(Math.floor((c.done / Math.max(c.total, 1)) * 100)),
      })}</small>`
}
