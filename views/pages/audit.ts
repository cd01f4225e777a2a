// views/pages/audit — the Audit page: filters (actor, action, project, time range), the chain's
// status, export buttons for the filtered range, and the newest rows, refreshed every 2 s (live tail).
import type { AuditRow, ClusterAudit, VerifyResult } from "../../core/audit/index.ts"
import { html, type SafeHtml } from "../html.ts"
import { t, type Lang } from "../i18n.ts"

export interface AuditFilters {
  actor?: string
  action?: string
  project?: string
  from?: string
  to?: string
}

export interface AuditPageData {
  filters: AuditFilters
  rows: AuditRow[]
  verify: VerifyResult
  grade: string
  retention: string
}

const qs = (f: AuditFilters, extra: Record<string, string> = {}) =>
  new URLSearchParams(
    Object.entries({ ...f, ...extra }).filter(([, v]) => typeof v === "string" && v !== "") as [string, string][],
  ).toString()

export function auditRowsTable(lang: Lang, rows: AuditRow[]): SafeHtml {
  if (!rows.length) return html`<p class="muted" id="audit-empty">${t(lang, "audit.empty")}</p>`
  return html`<table id="audit-rows"><thead><tr><th>#</th><th>${t(lang, "audit.time")}</th><th>${t(lang, "audit.actor")}</th>
    <th>${t(lang, "audit.action")}</th><th>${t(lang, "audit.target")}</th><th>${t(lang, "audit.project")}</th>
    <th>${t(lang, "audit.client")}</th><th>${t(lang, "audit.outcome")}</th><th>${t(lang, "audit.details")}</th></tr></thead><tbody>
    ${rows.map(
      (r) => html`<tr data-id="${r.id}" data-action="${r.action}" data-outcome="${r.outcome}">
        <td>${r.id}</td><td><time datetime="${r.at}">${r.at.replace("T", " ").slice(0, 19)}</time></td>
        <td>${r.actor.kind}:${r.actor.id}</td><td>${r.action}</td><td>${r.target ?? ""}</td><td>${r.project ?? ""}</td>
        <td>${r.client_ip ?? ""}</td><td class="${r.outcome === "success" ? "" : "bad"}">${t(lang, `audit.outcome.${r.outcome}`)}</td>
        <td><small>${JSON.stringify(r.details)}</small></td></tr>`,
    )}</tbody></table>`
}

export function auditBody(lang: Lang, d: AuditPageData): SafeHtml {
  const f = d.filters
  const v = d.verify
  return html`<section id="audit-chain" data-ok="${String(v.ok)}">
    <h2>${t(lang, "audit.chain")}</h2>
    <p class="${v.ok ? "" : "bad"}">${
      v.ok
        ? t(lang, "audit.chain_ok", { rows: v.rows })
        : t(lang, "audit.chain_broken", { id: v.first_broken?.id ?? "?", reason: v.first_broken?.reason ?? "?" })
    }</p>
    <p class="muted">${t(lang, "audit.policy", { grade: d.grade, retention: d.retention })}</p>
  </section>
  <form method="get" action="/audit" id="audit-filters">
    <label for="f-actor">${t(lang, "audit.actor")}</label><input id="f-actor" name="actor" value="${f.actor ?? ""}" placeholder="admin:ops@example.com">
    <label for="f-action">${t(lang, "audit.action")}</label><input id="f-action" name="action" value="${f.action ?? ""}" placeholder="key, admin.sign_in">
    <label for="f-project">${t(lang, "audit.project")}</label><input id="f-project" name="project" value="${f.project ?? ""}">
    <label for="f-from">${t(lang, "audit.from")}</label><input id="f-from" name="from" type="datetime-local" value="${f.from ?? ""}">
    <label for="f-to">${t(lang, "audit.to")}</label><input id="f-to" name="to" type="datetime-local" value="${f.to ?? ""}">
    <div class="actions"><button type="submit" id="audit-filter">${t(lang, "audit.filter")}</button>
      <a class="button secondary" id="audit-export-csv" href="/v1/admin/audit/export?${qs({ from: f.from, to: f.to }, { format: "csv" })}">${t(lang, "audit.export_csv")}</a>
      <a class="button secondary" id="audit-export-jsonl" href="/v1/admin/audit/export?${qs({ from: f.from, to: f.to }, { format: "jsonl" })}">${t(lang, "audit.export_jsonl")}</a></div>
  </form>
  <section id="audit-cluster" hx-get="/audit/cluster?${qs(f)}" hx-trigger="load" hx-swap="innerHTML">
    <h2>${t(lang, "audit.cluster")}</h2><p class="muted">${t(lang, "audit.cluster_asking")}</p></section>
  <h2>${t(lang, "audit.live")}</h2>
  <div id="audit-live" hx-get="/audit/live?${qs(f)}" hx-trigger="every 2s" hx-swap="innerHTML">${auditRowsTable(lang, d.rows)}</div>`
}

/** Each pool's chain and row count, and the pools that did not answer (named, with why). */
export function auditClusterSection(lang: Lang, v: ClusterAudit): SafeHtml {
  return html`<h2>${t(lang, "audit.cluster")}</h2>
    <table id="audit-cluster-pools"><thead><tr><th>${t(lang, "audit.cluster_pool")}</th><th>${t(lang, "audit.chain")}</th>
      <th>${t(lang, "audit.cluster_rows")}</th></tr></thead><tbody>
    ${v.pools.map(
      (p) => html`<tr data-pool="${p.pool}" data-ok="${String(p.verify.ok)}"><td>${p.pool}</td>
        <td class="${p.verify.ok ? "" : "bad"}">${
          p.verify.ok
            ? t(lang, "audit.chain_ok", { rows: p.verify.rows })
            : t(lang, "audit.chain_broken", {
                id: p.verify.first_broken?.id ?? "?",
                reason: p.verify.first_broken?.reason ?? "?",
              })
        }</td><td>${p.rows.length}</td></tr>`,
    )}</tbody></table>
    ${
      v.unreachable.length
        ? html`<p class="bad" id="audit-cluster-unreachable">${t(lang, "audit.cluster_unreachable")}</p><ul>
          ${v.unreachable.map((u) => html`<li data-pool="${u.pool}">${u.pool}: ${u.reason}</li>`)}</ul>`
        : ""
    }`
}
