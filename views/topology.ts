// views/topology — the Topology page (§0.4): the cluster's network type and the latency matrix between
// sites, re-fetched live by HTMX. Pure: data in, HTML out; FR and EN strings live here.
import { html, type SafeHtml } from "./html.ts"
import type { Lang } from "./i18n.ts"

const M = {
  en: {
    title: "Topology",
    type: "Network type",
    lan: "Local LAN (< 5 ms)",
    metro: "Multi-building metro (5–30 ms)",
    wan: "Inter-city WAN (> 30 ms)",
    single: "Single site (no bonded peer)",
    matrix: "Latency between sites (round trip, ms)",
    from: "from \\ to",
    live: "Measured continuously; refreshed every 5 s.",
    unknown: "not measured",
  },
  fr: {
    title: "Topologie",
    type: "Type de réseau",
    lan: "LAN local (< 5 ms)",
    metro: "Métro multi-bâtiments (5–30 ms)",
    wan: "WAN inter-villes (> 30 ms)",
    single: "Site unique (aucun pair lié)",
    matrix: "Latence entre sites (aller-retour, ms)",
    from: "de \\ vers",
    live: "Mesurée en continu ; rafraîchie toutes les 5 s.",
    unknown: "non mesurée",
  },
} as const

export const topologyTitle = (lang: Lang) => (M[lang] ?? M.en).title
/** The network type in words (the Overview shows it too). */
export const networkTypeLabel = (lang: Lang, type: "lan" | "metro" | "wan" | "single") => (M[lang] ?? M.en)[type]

export interface TopologyData {
  network_type: "lan" | "metro" | "wan" | "single"
  names: Record<string, string | null>
  matrix: Record<string, Record<string, number | null>>
}

const linkClass = (ms: number | null | undefined) => (ms == null ? "" : ms < 5 ? "lan" : ms <= 30 ? "metro" : "wan")

export function topologyLive(lang: Lang, d: TopologyData): SafeHtml {
  const m = M[lang] ?? M.en
  const atoms = Object.keys(d.names)
  const label = (a: string) => d.names[a] ?? a.slice(0, 13)
  return html`<div class="cards"><div class="card"><div class="k">${m.type}</div><div class="v" id="network-type" data-type="${d.network_type}">${m[d.network_type]}</div></div></div>
  <h2>${m.matrix}</h2>
  <table id="latency-matrix"><tr><th>${m.from}</th>${atoms.map((a) => html`<th>${label(a)}</th>`)}</tr>
  ${atoms.map(
    (from) =>
      html`<tr><th>${label(from)}</th>${atoms.map((to) => {
        if (from === to) return html`<td>—</td>`
        const ms = d.matrix[from]?.[to]
        return html`<td class="${linkClass(ms)}" data-from="${from}" data-to="${to}" title="${ms == null ? m.unknown : linkClass(ms).toUpperCase()}">${ms == null ? "·" : ms.toFixed(1)}</td>`
      })}</tr>`,
  )}</table>`
}

export function topologyBody(lang: Lang, d: TopologyData): SafeHtml {
  return html`<div id="topology-live" hx-get="/topology/live" hx-trigger="every 5s" hx-swap="innerHTML"><p class="muted"><small>${(M[lang] ?? M.en).live}</small></p>${topologyLive(lang, d)}</div>`
}
