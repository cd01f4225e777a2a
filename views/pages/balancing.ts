// views/pages/balancing — Worker balancing (§0.3): declared headcount per site against the machines
// actually contributing, and who consumes the service (usage per API key, 30 days, as an SVG chart).
// Pure: plain data in, HTML out. The chart is server-drawn SVG: no script, no CDN.
import { html, raw, type SafeHtml } from "../html.ts"
import { addMessages, t, type Lang } from "../i18n.ts"

addMessages({
  en: {
    "balancing.title": "Worker balancing",
    "balancing.sites": "Declared headcount per site",
    "balancing.site": "Site",
    "balancing.headcount": "Declared employees",
    "balancing.total": "Total",
    "balancing.contributing": "Machines contributing now",
    "balancing.pool": "Pool",
    "balancing.workers": "Workers",
    "balancing.slots": "Slots (busy / total)",
    "balancing.ratio": "{workers} workers for {people} declared employees ({pct} %)",
    "balancing.no_sites": "No site declared yet (Federation page, or the setup wizard).",
    "balancing.this_pool": "{name} (this pool)",
    "balancing.unreachable": "unreachable",
    "balancing.usage": "Usage by API key, last 30 days (tokens)",
    "balancing.no_usage": "No request recorded in the last 30 days.",
    "balancing.keys": "API keys",
    "balancing.key_name": "Name",
    "balancing.key_prefix": "Prefix",
    "balancing.key_limits": "Limits",
    "balancing.key_state": "State",
    "balancing.revoked": "revoked",
    "balancing.active": "active",
    "balancing.anonymous": "anonymous",
    "balancing.peak": "busiest day {max} tokens",
  },
  fr: {
    "balancing.title": "Répartition des workers",
    "balancing.sites": "Effectif déclaré par site",
    "balancing.site": "Site",
    "balancing.headcount": "Salariés déclarés",
    "balancing.total": "Total",
    "balancing.contributing": "Machines qui contribuent maintenant",
    "balancing.pool": "Pool",
    "balancing.workers": "Workers",
    "balancing.slots": "Slots (occupés / total)",
    "balancing.ratio": "{workers} workers pour {people} salariés déclarés ({pct} %)",
    "balancing.no_sites": "Aucun site déclaré (page Fédération, ou l'assistant d'installation).",
    "balancing.this_pool": "{name} (ce pool)",
    "balancing.unreachable": "injoignable",
    "balancing.usage": "Consommation par clé d'API, 30 derniers jours (jetons)",
    "balancing.no_usage": "Aucune requête enregistrée ces 30 derniers jours.",
    "balancing.keys": "Clés d'API",
    "balancing.key_name": "Nom",
    "balancing.key_prefix": "Préfixe",
    "balancing.key_limits": "Limites",
    "balancing.key_state": "État",
    "balancing.revoked": "révoquée",
    "balancing.active": "active",
    "balancing.anonymous": "anonyme",
    "balancing.peak": "jour le plus chargé {max} jetons",
  },
})

export interface BalancingData {
  sites: { name: string; headcount: number }[]
  pools: { name: string; self: boolean; workers: number | null; slots: number; busy: number }[]
  usage: { day: string; key: string; tokens: number }[]
  keys: { name: string; prefix: string; rpm: number | null; tpm: number | null; monthly_token_budget: number | null; models: string[] | null; revoked: boolean }[]
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
      bars.push(`<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${bw}" height="${h.toFixed(1)}" fill="${PALETTE[keys.indexOf(k) % PALETTE.length]}"><title>${escapeAttr(`${d} · ${k} · ${v}`)}</title></rect>`)
    }
  })
  const legend = keys.map((k, i) => html`<span class="legend"><i style="background:${PALETTE[i % PALETTE.length]}"></i>${k}</span>`)
  return html`<figure class="chart">
    ${raw(`<svg viewBox="0 0 ${W} ${H}" role="img" aria-label="usage" preserveAspectRatio="none" width="100%" height="${H}">${bars.join("")}</svg>`)}
    <figcaption>${legend} · ${t(lang, "balancing.peak", { max })} · ${days[0]} → ${days[days.length - 1]}</figcaption>
  </figure>`
}

function escapeAttr(s: string) {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

export function balancingBody(lang: Lang, d: BalancingData): SafeHtml {
  const people = d.sites.reduce((n, s) => n + s.headcount, 0)
  const workers = d.pools.reduce((n, p) => n + (p.workers ?? 0), 0)
  const pct = people ? Math.round((100 * workers) / people) : 0
  const limits = (k: BalancingData["keys"][number]) =>
    [k.rpm && `${k.rpm} req/min`, k.tpm && `${k.tpm} tok/min`, k.monthly_token_budget && `${k.monthly_token_budget} tok/month`, k.models && k.models.join(", ")].filter(Boolean).join(" · ") || "—"
  return html`
  <section>
    <h2>${t(lang, "balancing.sites")}</h2>
    ${d.sites.length
      ? html`<table><thead><tr><th>${t(lang, "balancing.site")}</th><th>${t(lang, "balancing.headcount")}</th></tr></thead>
        <tbody>${d.sites.map((s) => html`<tr><td>${s.name}</td><td>${s.headcount}</td></tr>`)}
        <tr class="total"><td>${t(lang, "balancing.total")}</td><td id="headcount-total">${people}</td></tr></tbody></table>`
      : html`<p class="muted">${t(lang, "balancing.no_sites")}</p>`}
  </section>
  <section>
    <h2>${t(lang, "balancing.contributing")}</h2>
    <p id="balancing-ratio">${t(lang, "balancing.ratio", { workers, people, pct })}</p>
    <table><thead><tr><th>${t(lang, "balancing.pool")}</th><th>${t(lang, "balancing.workers")}</th><th>${t(lang, "balancing.slots")}</th></tr></thead>
    <tbody>${d.pools.map((p) => html`<tr><td>${p.self ? t(lang, "balancing.this_pool", { name: p.name }) : p.name}</td>
      <td>${p.workers ?? t(lang, "balancing.unreachable")}</td><td>${p.busy} / ${p.slots}</td></tr>`)}</tbody></table>
  </section>
  <section>
    <h2>${t(lang, "balancing.usage")}</h2>
    ${usageChart(lang, d.usage)}
  </section>
  <section>
    <h2>${t(lang, "balancing.keys")}</h2>
    <table><thead><tr><th>${t(lang, "balancing.key_name")}</th><th>${t(lang, "balancing.key_prefix")}</th><th>${t(lang, "balancing.key_limits")}</th><th>${t(lang, "balancing.key_state")}</th></tr></thead>
    <tbody>${d.keys.map((k) => html`<tr><td>${k.name}</td><td><code>${k.prefix}…</code></td><td>${limits(k)}</td><td>${k.revoked ? t(lang, "balancing.revoked") : t(lang, "balancing.active")}</td></tr>`)}</tbody></table>
  </section>`
}
