// views/pages/balancing — Worker balancing (§0.3): declared headcount per site against the machines
// actually contributing, who consumes the service (usage per API key, 30 days, as an SVG chart), and
// who may: API keys (created here, the secret shown once; revoked here) and the anonymous-access switch.
// Pure: plain data in, HTML out. The chart is server-drawn SVG: no script, no CDN.
import { escapeHtml, html, raw, type SafeHtml } from "../html.ts"
import { t, type Lang } from "../i18n.ts"
import { csrfField } from "../layout.ts"

export interface BalancingData {
  sites: { site_id?: string; name: string; headcount: number; pool?: string | null }[]
  /** Pools a site can name as its serving pool (this one and the trusted peers), by federation id. */
  poolChoices?: { atom_id: string; name: string }[]
  /** The site form just posted with its errors, field by field (message keys), to show next to each field. */
  siteForm?: SiteForm
  /** Whether this pool's balancer runs (issue 17), and why not. */
  balancer?: { on: boolean; everyS: number; why?: "unlicensed" | "disabled" }
  pools: { name: string; self: boolean; workers: number | null; slots: number; busy: number }[]
  usage: { day: string; key: string; tokens: number }[]
  /** Pools whose usage is missing from the chart (did not answer). */
  usageUnreachable?: string[]
  keys: {
    id: string
    name: string
    project: string | null
    prefix: string
    rpm: number | null
    tpm: number | null
    monthly_token_budget: number | null
    models: string[] | null
    priority: string
    revoked: boolean
  }[]
  anonymous: { enabled: boolean; forced: boolean }
  /** The outcome of the form just posted; `secret` is a key just created (its only showing). */
  flash?: { ok: boolean; text: string; secret?: string; section?: "sites" }
  /** Worker migration orders (issue 17), newest first; absent: the pool runs no orders. */
  orders?: OrdersView
}

export interface OrdersView {
  /** Orders run by themselves (true) or wait for an admin's approval. */
  executorEnabled: boolean
  rows: {
    id: string
    worker: string
    source: string
    target: string
    reason: string
    state: string
    approved: boolean
    issued_at: Date | string
    finished_at: Date | string | null
    /** Issued by this pool: only its own orders can be approved or rejected here. */
    mine: boolean
  }[]
}

export interface SiteForm {
  values: { site_id: string; name: string; headcount: string; pool: string }
  errors: Partial<Record<"site_id" | "name" | "headcount" | "pool", string>>
}

/** The headcount form (issue 17): one site declared or changed, each error next to its field. */
function siteForm(lang: Lang, d: BalancingData, csrf?: string): SafeHtml {
  const v = d.siteForm?.values ?? { site_id: "", name: "", headcount: "", pool: "" }
  const e = d.siteForm?.errors ?? {}
  const field = (name: keyof SiteForm["errors"], label: string, input: SafeHtml, help?: string) =>
    html`<div class="${e[name] ? "field-error" : ""}" data-field="${name}"><label for="site-${name}">${label}</label>${input}
      ${help ? html`<small class="muted">${help}</small>` : ""}
      ${e[name] ? html`<p class="field-error flash bad" id="site-${name}-error" role="alert">${t(lang, e[name] as never)}</p>` : ""}</div>`
  const invalid = (name: keyof SiteForm["errors"]) =>
    e[name] ? html`aria-invalid="true" aria-describedby="site-${name}-error"` : ""
  return html`<h3>${t(lang, "balancer.sites_edit")}</h3>
  <form method="post" action="/balancing/sites" id="site-form" novalidate>${csrfField(csrf)}
    ${field("site_id", t(lang, "balancer.site_id"), html`<input id="site-site_id" name="site_id" value="${v.site_id}" maxlength="63" ${invalid("site_id")}>`, t(lang, "balancer.site_id_help"))}
    ${field("name", t(lang, "balancer.site_name"), html`<input id="site-name" name="name" value="${v.name}" maxlength="200" ${invalid("name")}>`)}
    ${field("headcount", t(lang, "balancer.site_headcount"), html`<input id="site-headcount" name="headcount" type="number" min="0" step="1" value="${v.headcount}" ${invalid("headcount")}>`)}
    ${field(
      "pool",
      t(lang, "balancer.site_pool"),
      html`<select id="site-pool" name="pool" ${invalid("pool")}><option value="">${t(lang, "balancer.site_pool_any")}</option>${(d.poolChoices ?? []).map((p) => html`<option value="${p.atom_id}" ${p.atom_id === v.pool ? "selected" : ""}>${p.name}</option>`)}</select>`,
    )}
    <div class="actions"><button type="submit" id="site-save">${t(lang, "balancer.site_save")}</button></div>
  </form>
  <p class="muted">${t(lang, "balancer.headcount_note")}</p>`
}

const at = (d: Date | string | null) => (d ? new Date(d).toISOString().replace("T", " ").slice(0, 19) : "—")

/** The orders table, also served alone as the live fragment (GET /balancing/orders/live, every 2 s). */
export function ordersTable(lang: Lang, o: OrdersView, csrf?: string): SafeHtml {
  const state = (r: OrdersView["rows"][number]) =>
    r.state === "issued" && r.approved ? t(lang, "orders.approved") : t(lang, `orders.state.${r.state}` as never)
  const actions = (r: OrdersView["rows"][number]) =>
    r.state === "issued" && !r.approved && r.mine
      ? html`<form class="inline" method="post" action="/balancing/orders/approve">${csrfField(csrf)}<input type="hidden" name="id" value="${r.id}"><button type="submit" class="approve-order">${t(lang, "orders.approve")}</button></form>
        <form class="inline" method="post" action="/balancing/orders/reject">${csrfField(csrf)}<input type="hidden" name="id" value="${r.id}"><button type="submit" class="secondary reject-order">${t(lang, "orders.reject")}</button></form>`
      : ""
  return html`<p class="muted" id="executor-state" data-enabled="${String(o.executorEnabled)}">${t(lang, o.executorEnabled ? "orders.executor_on" : "orders.executor_off")}</p>
  ${
    o.rows.length
      ? html`<table id="orders-table"><thead><tr><th>${t(lang, "orders.worker")}</th><th>${t(lang, "orders.move")}</th><th>${t(lang, "orders.reason")}</th><th>${t(lang, "orders.state")}</th><th>${t(lang, "orders.when")}</th><th></th></tr></thead>
    <tbody>${o.rows.map(
      (
        r,
      ) => html`<tr data-order="${r.id}" data-state="${r.state}"><td>${r.worker}</td><td>${r.source} → ${r.target}</td><td>${r.reason}</td>
      <td class="order-state">${state(r)}</td><td>${at(r.issued_at)}${r.finished_at ? html`<br><small class="muted">${at(r.finished_at)}</small>` : ""}</td><td>${actions(r)}</td></tr>`,
    )}</tbody></table>`
      : html`<p class="muted">${t(lang, "orders.none")}</p>`
  }`
}

const PALETTE = ["#2563eb", "#16a34a", "#d97706", "#9333ea", "#dc2626", "#0891b2", "#4d7c0f", "#be185d"]

/** Stacked daily bars, one colour per key; sizes in viewBox units so it scales with the page. */
export function usageChart(lang: Lang, usage: BalancingData["usage"]): SafeHtml {
  if (!usage.length) return html`<p class="muted">${t(lang, "balancing.no_usage")}</p>`
  const days = [...new Set(usage.map((u) => u.day))].sort()
  const keys = [...new Set(usage.map((u) => u.key))].sort()
  const totals = days.map((d) => usage.filter((u) => u.day === d).reduce((n, u) => n + u.tokens, 0))
  const max = Math.max(...totals, 1)
  const W = 600
  const H = 160
  const bw = Math.max(4, Math.floor(W / days.length) - 4)
  const bars: string[] = []
  days.forEach((d, i) => {
    let y = H
    for (const k of keys) {
      const v = usage.find((u) => u.day === d && u.key === k)?.tokens ?? 0
      if (!v) continue
      const h = (v / max) * (H - 10)
      y -= h
      const x = i * (W / days.length) + 2
      bars.push(
        `<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${bw}" height="${h.toFixed(1)}" fill="${PALETTE[keys.indexOf(k) % PALETTE.length]}"><title>${escapeHtml(`${d} · ${k} · ${v}`)}</title></rect>`,
      )
    }
  })
  const legend = keys.map(
    (k, i) => html`<span class="legend"><i style="background:${PALETTE[i % PALETTE.length]}"></i>${k}</span>`,
  )
  return html`<figure class="chart">
    ${raw(`<svg viewBox="0 0 ${W} ${H}" role="img" aria-label="usage" preserveAspectRatio="none" width="100%" height="${H}">${bars.join("")}</svg>`)}
    <figcaption>${legend} · ${t(lang, "balancing.peak", { max })} · ${days[0]} → ${days[days.length - 1]}</figcaption>
  </figure>`
}

export function balancingBody(lang: Lang, d: BalancingData, csrf?: string): SafeHtml {
  const poolName = (id: string) => d.poolChoices?.find((p) => p.atom_id === id)?.name
  const people = d.sites.reduce((n, s) => n + s.headcount, 0)
  const workers = d.pools.reduce((n, p) => n + (p.workers ?? 0), 0)
  const pct = people ? Math.round((100 * workers) / people) : 0
  const limits = (k: BalancingData["keys"][number]) =>
    [
      k.rpm && `${k.rpm} req/min`,
      k.tpm && `${k.tpm} tok/min`,
      k.monthly_token_budget && `${k.monthly_token_budget} tok/month`,
      k.models?.join(", "),
    ]
      .filter(Boolean)
      .join(" · ") || "—"
  return html`
  <section>
    <h2>${t(lang, "balancing.sites")}</h2>
    ${
      d.sites.length
        ? html`<table id="sites-table"><thead><tr><th>${t(lang, "balancing.site")}</th><th>${t(lang, "balancing.headcount")}</th><th>${t(lang, "balancer.site_pool")}</th></tr></thead>
        <tbody>${d.sites.map((s) => html`<tr data-site="${s.site_id ?? ""}"><td>${s.name}</td><td class="headcount">${s.headcount}</td><td>${s.pool ? (poolName(s.pool) ?? s.pool.slice(0, 12)) : "—"}</td></tr>`)}
        <tr class="total"><td>${t(lang, "balancing.total")}</td><td id="headcount-total">${people}</td><td></td></tr></tbody></table>`
        : html`<p class="muted">${t(lang, "balancing.no_sites")}</p>`
    }
    ${d.flash?.section === "sites" ? html`<p class="flash ${d.flash.ok ? "" : "bad"}" id="sites-flash">${d.flash.text}</p>` : ""}
    ${siteForm(lang, d, csrf)}
  </section>
  <section>
    <h2>${t(lang, "balancing.contributing")}</h2>
    <p id="balancing-ratio">${t(lang, "balancing.ratio", { workers, people, pct })}</p>
    <table><thead><tr><th>${t(lang, "balancing.pool")}</th><th>${t(lang, "balancing.workers")}</th><th>${t(lang, "balancing.slots")}</th></tr></thead>
    <tbody>${d.pools.map(
      (p) => html`<tr><td>${p.self ? t(lang, "balancing.this_pool", { name: p.name }) : p.name}</td>
      <td>${p.workers ?? t(lang, "balancing.unreachable")}</td><td>${p.busy} / ${p.slots}</td></tr>`,
    )}</tbody></table>
  </section>
  <section>
    <h2>${t(lang, "balancing.usage")}</h2>
    ${usageChart(lang, d.usage)}
    ${d.usageUnreachable?.length ? html`<p class="muted" id="usage-missing">${t(lang, "balancing.usage_missing", { pools: d.usageUnreachable.join(", ") })}</p>` : ""}
  </section>
  ${
    d.orders
      ? html`<section id="migration-orders">
    <h2>${t(lang, "orders.title")}</h2>
    ${d.balancer ? html`<p class="muted" id="balancer-state" data-on="${String(d.balancer.on)}">${d.balancer.on ? t(lang, "balancer.on", { s: d.balancer.everyS }) : t(lang, "balancer.off", { why: t(lang, d.balancer.why === "disabled" ? "balancer.disabled" : "balancer.unlicensed") })}</p>` : ""}
    <div id="orders-live" hx-get="/balancing/orders/live" hx-trigger="every 2s" hx-swap="innerHTML">${ordersTable(lang, d.orders, csrf)}</div>
  </section>`
      : ""
  }
  <section id="keys">
    <h2>${t(lang, "balancing.keys")}</h2>
    ${
      d.flash && d.flash.section !== "sites"
        ? html`<p class="flash ${d.flash.ok ? "" : "bad"}" id="keys-flash">${d.flash.text}${d.flash.secret ? html`<br><code id="key-secret">${d.flash.secret}</code>` : ""}</p>`
        : ""
    }
    <p class="muted">${t(lang, "balancing.limits_cluster")}</p>
    <table id="keys-table"><thead><tr><th>${t(lang, "balancing.key_name")}</th><th>${t(lang, "balancing.key_prefix")}</th><th>${t(lang, "balancing.key_limits")}</th><th>${t(lang, "balancing.key_state")}</th><th></th></tr></thead>
    <tbody>${d.keys.map(
      (
        k,
      ) => html`<tr data-key="${k.id}"><td>${k.name}${k.project ? html`<br><small class="muted">${k.project}</small>` : ""}</td><td><code>${k.prefix}…</code></td><td>${limits(k)}</td>
      <td>${k.revoked ? t(lang, "balancing.revoked") : t(lang, "balancing.active")}</td>
      <td>${
        k.revoked
          ? ""
          : html`<form class="inline" method="post" action="/balancing/keys/revoke" data-confirm="${t(lang, "balancing.revoke_confirm")}">${csrfField(csrf)}
        <input type="hidden" name="id" value="${k.id}"><button type="submit" class="secondary">${t(lang, "balancing.revoke")}</button></form>`
      }</td></tr>`,
    )}</tbody></table>
    <h3>${t(lang, "balancing.new_key")}</h3>
    <form method="post" action="/balancing/keys" id="new-key">${csrfField(csrf)}
      <label for="key-name">${t(lang, "balancing.key_name")}</label><input id="key-name" name="name" type="text" required maxlength="100">
      <label for="key-project">${t(lang, "balancing.key_project")}</label><input id="key-project" name="project" type="text" maxlength="100">
      <label for="key-models">${t(lang, "balancing.key_models")}</label><input id="key-models" name="models" type="text">
      <label for="key-rpm">${t(lang, "balancing.key_rpm")}</label><input id="key-rpm" name="rpm" type="number" min="1" step="1">
      <label for="key-tpm">${t(lang, "balancing.key_tpm")}</label><input id="key-tpm" name="tpm" type="number" min="1" step="1">
      <label for="key-budget">${t(lang, "balancing.key_budget")}</label><input id="key-budget" name="monthly_token_budget" type="number" min="1" step="1">
      <label for="key-priority">${t(lang, "balancing.key_priority")}</label>
      <select id="key-priority" name="priority"><option value="interactive">interactive</option><option value="batch">batch</option></select>
      <div class="actions"><button type="submit" id="create-key">${t(lang, "balancing.create_key")}</button></div>
    </form>
  </section>
  <section id="anonymous">
    <h2>${t(lang, "balancing.anon_title")}</h2>
    <p id="anon-state" data-enabled="${String(d.anonymous.enabled)}">${t(lang, d.anonymous.enabled ? "balancing.anon_on" : "balancing.anon_off")}</p>
    ${
      d.anonymous.forced
        ? html`<p class="muted">${t(lang, "balancing.anon_forced")}</p>`
        : html`<form method="post" action="/balancing/anonymous" ${d.anonymous.enabled ? "" : html`data-confirm="${t(lang, "balancing.anon_enable_confirm")}"`}>${csrfField(csrf)}
        <input type="hidden" name="enabled" value="${String(!d.anonymous.enabled)}">
        <div class="actions"><button type="submit" id="anon-toggle" class="${d.anonymous.enabled ? "" : "secondary"}">${t(lang, d.anonymous.enabled ? "balancing.anon_disable" : "balancing.anon_enable")}</button></div></form>`
    }
  </section>`
}
