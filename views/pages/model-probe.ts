// views/pages/model-probe — the Models page's guidance and probe sections (admin guide §4.9): the
// recommended instruct non-thinking model per hardware class with a warning for files whose name says
// thinking or base model, and one file's probe (status, flags, each control answer) with the buttons
// to start it and to accept a flagged model. Pure: data in, HTML out; the page decides where forms post.
import type { ProbeResult } from "../../core/catalog/probe.ts"
import { familyOf, RECOMMENDED } from "../../core/catalog/families.ts"
import { html, type SafeHtml } from "../html.ts"
import { t, type Lang } from "../i18n.ts"
import { csrfField } from "../layout.ts"

/** §4.9.4's table, then a warning for each listed file that looks like a thinking or base model. */
export function modelGuidanceSection(lang: Lang, files: string[]): SafeHtml {
  const warned = files
    .map((f) => ({ f, family: familyOf(f) }))
    .filter((x) => x.family === "thinking" || x.family === "base")
  return html`<section id="model-guidance"><h2>${t(lang, "guidance.title")}</h2>
    <p class="muted">${t(lang, "guidance.intro")}</p>
    <table><thead><tr><th>${t(lang, "guidance.class")}</th><th>${t(lang, "guidance.recommended")}</th></tr></thead><tbody>
    ${Object.entries(RECOMMENDED).map(([c, m]) => html`<tr><td><code>${c}</code></td><td>${m}</td></tr>`)}
    </tbody></table>
    ${warned.map(
      (x) =>
        html`<p class="warn" data-file="${x.f}" data-family="${x.family}">${t(lang, `guidance.warn_${x.family}`, { file: x.f })}</p>`,
    )}</section>`
}

export interface ProbeSectionInput {
  fileName: string
  probe: ProbeResult | null
  /** Where the dashboard posts "start the probe" and "accept" for this file. */
  startAction: string
  acceptAction: string
  csrf?: string
}

/** One file's probe: what it found, the answers it got, and what the administrator can do next. */
export function modelProbeSection(lang: Lang, p: ProbeSectionInput): SafeHtml {
  const r = p.probe
  const start = html`<form method="post" action="${p.startAction}">${csrfField(p.csrf)}
    <button type="submit">${t(lang, r ? "probe.restart" : "probe.start")}</button></form>`
  if (!r)
    return html`<section class="model-probe" data-file="${p.fileName}" data-status="none">
      <h3>${t(lang, "probe.title")}</h3><p class="muted">${t(lang, "probe.never")}</p>${start}</section>`
  const accepted = r.accepted_at
    ? html`<p class="ok">${t(lang, "probe.accepted", { admin: r.accepted_by ?? "", at: r.accepted_at.slice(0, 19).replace("T", " ") })}</p>`
    : ""
  const accept =
    (r.status === "flagged" || r.status === "failed") && !r.accepted_at
      ? html`<form method="post" action="${p.acceptAction}" data-confirm="${t(lang, "probe.accept_confirm", { file: p.fileName })}">${csrfField(p.csrf)}
          <button type="submit">${t(lang, "probe.accept")}</button></form>`
      : ""
  return html`<section class="model-probe" data-file="${p.fileName}" data-status="${r.status}">
    <h3>${t(lang, "probe.title")}</h3>
    <p class="${r.status === "passed" ? "ok" : r.status === "running" ? "muted" : "bad"}">${t(lang, `probe.status.${r.status}`)}
      ${r.worker_name ? html` — ${t(lang, "probe.on_worker", { worker: r.worker_name })}` : ""}</p>
    ${r.flags.length ? html`<ul class="flags">${r.flags.map((f) => html`<li data-flag="${f}">${t(lang, `probe.flag.${f}`)}</li>`)}</ul>` : ""}
    ${r.error ? html`<p class="bad">${r.error}</p>` : ""}
    ${r.answers.map(
      (
        a,
      ) => html`<details data-prompt="${a.id}"${a.flags.length ? " open" : ""}><summary>${t(lang, `probe.prompt.${a.id}`)}
        ${a.flags.length ? html` — <span class="bad">${a.flags.map((f) => t(lang, `probe.flag.${f}`)).join(", ")}</span>` : ""}</summary>
        <p class="muted">${a.prompt}</p><pre>${a.answer || t(lang, "probe.empty")}</pre></details>`,
    )}
    ${accepted}
    <p class="muted">${t(lang, r.assignable ? "probe.assignable" : "probe.blocked")}</p>
    ${r.status === "running" ? "" : start}${accept}</section>`
}
