// views/workers — the Workers page (admin guide §2.2): "add a worker" (OS + hardware → single-use
// code and ready-to-paste snippets), enrolled workers with revoke, live workers, recent lifecycle events.
// Pure: plain data in, HTML out.
import { html, type SafeHtml } from "./html.ts"
import { t, type Lang } from "./i18n.ts"
import { csrfField } from "./layout.ts"
import type { Snippets } from "../core/workers/install.ts"

export interface WorkersPageData {
  tokens: {
    id: number
    name: string
    os: string
    hardware: string
    created_at: Date | string
    last_seen_at: Date | string | null
    revoked_at: Date | string | null
  }[]
  live: { id?: string; name: string; version?: string; activity: string; models: { id: string }[] }[]
  /** Pools a live worker can be moved to (trusted peers); absent: no migration orders on this pool. */
  targets?: { atom_id: string; name: string }[]
  /** Workers pinned to a home pool (§4.2), by worker id, and this pool's id; absent: no pins on this pool. */
  pins?: { self: string; home: Record<string, string> }
  events: { at: Date | string; worker: string; event: string }[]
  issued?: {
    code: string
    expires_at: string
    snippets: Snippets
  }
  flash?: { ok: boolean; text: string }
}

const when = (d: Date | string | null) => (d ? new Date(d).toISOString().replace("T", " ").slice(0, 16) : "—")
const block = (title: string, content: string, id: string) =>
  html`<h3>${title}</h3><pre class="snippet" id="${id}"><code>${content}</code></pre>`

/** Manual move (§4.6.1): a migration order for this worker to a chosen trusted pool. */
function moveForm(lang: Lang, id: string | undefined, targets: { atom_id: string; name: string }[], csrf?: string) {
  if (!id) return ""
  if (!targets.length) return html`<small class="muted">${t(lang, "workers.no_peers")}</small>`
  return html`<form class="inline move-worker" method="post" action="/workers/move">${csrfField(csrf)}
    <input type="hidden" name="worker_id" value="${id}">
    <label class="inline">${t(lang, "workers.move")} <select name="target_pool">${targets.map((p) => html`<option value="${p.atom_id}">${p.name}</option>`)}</select></label>
    <button type="submit" class="secondary">${t(lang, "workers.move_submit")}</button></form>`
}

/** The home_pool pin (§4.2): pinned workers are never moved by the balancer; a manual move still is allowed. */
function pinForm(lang: Lang, id: string | undefined, pins: NonNullable<WorkersPageData["pins"]>, csrf?: string) {
  if (!id) return ""
  const home = pins.home[id]
  const state = home
    ? html`<small class="pin-state" data-pinned="${home === pins.self ? "here" : "elsewhere"}">${t(lang, home === pins.self ? "workers.pinned" : "workers.pinned_elsewhere")}</small> `
    : ""
  return html`${state}<form class="inline pin-worker" method="post" action="/workers/pin">${csrfField(csrf)}
    <input type="hidden" name="worker_id" value="${id}"><input type="hidden" name="pinned" value="${String(!home)}">
    <button type="submit" class="secondary">${t(lang, home ? "workers.unpin" : "workers.pin")}</button></form>`
}

export function workersBody(lang: Lang, d: WorkersPageData, csrf?: string): SafeHtml {
  const s = d.issued?.snippets
  return html`${d.flash ? html`<p class="flash ${d.flash.ok ? "" : "bad"}" id="workers-flash">${d.flash.text}</p>` : ""}
  <h2>${t(lang, "workers.add")}</h2>
  <form method="post" action="/workers/provision" id="provision-form">${csrfField(csrf)}
    <label for="os">${t(lang, "workers.os")}</label>
    <select id="os" name="os"><option value="linux">Linux</option><option value="windows">Windows</option><option value="macos">macOS (Apple Silicon)</option></select>
    <label for="hardware">${t(lang, "workers.hardware")}</label>
    <select id="hardware" name="hardware"><option value="cpu">${t(lang, "workers.hw.cpu")}</option><option value="gpu">${t(lang, "workers.hw.gpu")}</option></select>
    <label for="label">${t(lang, "workers.label")}</label><input id="label" name="label" maxlength="128">
    <div class="actions"><button type="submit" id="provision-submit">${t(lang, "workers.generate")}</button></div>
  </form>
  ${
    d.issued && s
      ? html`<section id="provisioned">
    <h3>${t(lang, "workers.code")}</h3><p><code id="provision-code">${d.issued.code}</code></p>
    <p class="muted">${t(lang, "workers.code_note", { expires: when(d.issued.expires_at) })}</p>
    ${block(t(lang, "workers.one_liner"), s.one_liner, "snippet-one-liner")}
    ${block(t(lang, "workers.config"), s.config_json, "snippet-config")}
    ${block(`${t(lang, "workers.install")} — ${s.install.name}`, s.install.content, "snippet-install")}
    ${block(`${t(lang, "workers.start")} — ${s.start.name}`, s.start.content, "snippet-start")}
    ${block(t(lang, "workers.service", { path: s.service.path }), s.service.content, "snippet-service")}
    ${block(t(lang, "workers.uninstall"), s.uninstall, "snippet-uninstall")}
  </section>`
      : ""
  }
  <h2>${t(lang, "workers.enrolled")}</h2>
  ${
    d.tokens.length
      ? html`<table id="worker-tokens"><thead><tr><th>${t(lang, "workers.name")}</th><th>${t(lang, "workers.os")}</th><th>${t(lang, "workers.hardware")}</th><th>${t(lang, "workers.created")}</th><th>${t(lang, "workers.last_seen")}</th><th>${t(lang, "workers.state")}</th><th></th></tr></thead><tbody>
    ${d.tokens.map(
      (
        w,
      ) => html`<tr data-token-id="${w.id}"><td>${w.name}</td><td>${w.os}</td><td>${w.hardware}</td><td>${when(w.created_at)}</td><td>${when(w.last_seen_at)}</td>
      <td>${t(lang, w.revoked_at ? "workers.state.revoked" : "workers.state.active")}</td>
      <td>${w.revoked_at ? "" : html`<form method="post" action="/workers/tokens/${w.id}/revoke" data-confirm="${t(lang, "workers.revoke_confirm")}" class="inline">${csrfField(csrf)}<button type="submit" class="danger">${t(lang, "workers.revoke")}</button></form>`}</td></tr>`,
    )}</tbody></table>`
      : html`<p class="muted">${t(lang, "workers.none")}</p>`
  }
  <h2>${t(lang, "workers.live")}</h2>
  <table id="live-workers"><thead><tr><th>${t(lang, "workers.name")}</th><th>${t(lang, "workers.version")}</th><th>${t(lang, "workers.activity")}</th><th>${t(lang, "workers.models")}</th>${d.targets ? html`<th></th>` : ""}</tr></thead><tbody>
  ${d.live.map((w) => html`<tr data-worker="${w.id ?? ""}"><td>${w.name}</td><td>${w.version ?? ""}</td><td>${w.activity}</td><td>${w.models.map((m) => m.id).join(", ")}</td>${d.targets ? html`<td>${moveForm(lang, w.id, d.targets, csrf)}${d.pins ? html` ${pinForm(lang, w.id, d.pins, csrf)}` : ""}</td>` : ""}</tr>`)}</tbody></table>
  <h2>${t(lang, "workers.events")}</h2>
  <table id="worker-events"><thead><tr><th>${t(lang, "workers.when")}</th><th>${t(lang, "workers.name")}</th><th>${t(lang, "workers.event")}</th></tr></thead><tbody>
  ${d.events.map((e) => html`<tr><td>${when(e.at)}</td><td>${e.worker}</td><td>${e.event}</td></tr>`)}</tbody></table>`
}
