// views/pages/overview — the Overview page: pool identity, declared headcount, connected workers
// (hardware, slots), models served, queue depth. #live is pushed over SSE (/assets/dashboard.js);
// without EventSource, HTMX re-fetches it every 2 s.
import { html, type SafeHtml } from "../html.ts"
import { t, type Lang } from "../i18n.ts"
import { networkTypeLabel } from "../topology.ts"

export interface OverviewData {
  poolName: string
  company: string
  sector: string
  sites: { name: string; headcount: number }[]
  workers: {
    id: string
    name: string
    hardware: { os: string; arch: string; cpu_threads: number; ram_mb: number; vram_mb?: number; gpu?: string }
    activity: string
    models: { id: string; slots: number; busy: number }[]
  }[]
  models: { id: string; kind: string; slots: number; workers: number }[]
  queueDepth: number
  /** The `cellule proxy` instances whose health checks reached this pool, newest first. */
  proxies?: { id: string; name: string; url: string; from: string; last_seen: string }[]
  /** The cluster (§0.1): bonded sites, machines contributing across pools, network type, MoE profile. */
  cluster?: {
    sites: { name: string; link: string | null; trust: number }[]
    endpoints: number
    networkType: "lan" | "metro" | "wan" | "single"
    moe?: { experts: { model: string; weight: number }[]; spread: string }
  }
}

// Strings of the cluster block live here (the shared dictionaries are at their size limit).
const M = {
  en: {
    cluster: "Cluster",
    endpoints: "Contributing endpoints (all pools)",
    sites: "Connected sites",
    network: "Detected network",
    moe: "MoE profile",
    moe_all: "every chat model served, least loaded first",
    shortcuts: "Shortcuts",
    proxies: "Proxies seen",
    proxies_none: "No cellule proxy has reached this pool in the last hour.",
    proxy: "Proxy",
    address: "Listens on",
    from: "Seen from",
    last_seen: "Last seen",
  },
  fr: {
    cluster: "Cluster",
    endpoints: "Postes contributeurs (tous les pools)",
    sites: "Sites connectés",
    network: "Réseau détecté",
    moe: "Profil MoE",
    moe_all: "tous les modèles de chat servis, le moins chargé d'abord",
    shortcuts: "Raccourcis",
    proxies: "Proxies vus",
    proxies_none: "Aucun cellule proxy n'a joint ce pool depuis une heure.",
    proxy: "Proxy",
    address: "Écoute sur",
    from: "Vu depuis",
    last_seen: "Vu pour la dernière fois",
  },
} as const

const SHORTCUTS = [
  ["/workers", "nav.workers"],
  ["/balancing", "nav.balancing"],
  ["/federation", "nav.federation"],
  ["/settings", "nav.settings"],
  ["/documentation", "nav.documentation"],
  ["/audit", "nav.audit"],
] as const

/** §0.1 capacity: the proxies in front of this pool (their health checks name them), with last seen. */
function proxiesBlock(lang: Lang, proxies: NonNullable<OverviewData["proxies"]>): SafeHtml {
  const m = M[lang] ?? M.en
  return html`<section id="proxies-seen" aria-labelledby="proxies-title"><h2 id="proxies-title">${m.proxies} <span class="badge" id="proxy-count">${proxies.length}</span></h2>
    ${
      proxies.length
        ? html`<div class="table-wrap"><table><thead><tr><th scope="col">${m.proxy}</th><th scope="col">${m.address}</th><th scope="col">${m.from}</th><th scope="col">${m.last_seen}</th></tr></thead>
          <tbody>${proxies.map((p) => html`<tr data-proxy="${p.id}"><td>${p.name}</td><td><code>${p.url}</code></td><td><code>${p.from}</code></td><td><time datetime="${p.last_seen}">${p.last_seen.replace("T", " ").slice(0, 19)} UTC</time></td></tr>`)}</tbody></table></div>`
        : html`<p class="muted">${m.proxies_none}</p>`
    }</section>`
}

function clusterBlock(lang: Lang, c: NonNullable<OverviewData["cluster"]>): SafeHtml {
  const m = M[lang] ?? M.en
  const moe = c.moe?.experts.length
    ? `${c.moe.experts.map((e) => `${e.model} ×${e.weight}`).join(", ")} (${c.moe.spread})`
    : m.moe_all
  return html`<h2>${m.cluster}</h2>
    <div class="cards" id="cluster">
      <div class="card"><div class="k">${m.endpoints}</div><div class="v" id="endpoint-count">${c.endpoints}</div></div>
      <div class="card"><div class="k">${m.sites}</div><div class="v" id="site-count">${c.sites.length}</div></div>
      <div class="card"><div class="k">${m.network}</div><div class="v" id="network-type" data-type="${c.networkType}">${networkTypeLabel(lang, c.networkType)}</div></div>
      <div class="card"><div class="k">${m.moe}</div><div class="v" id="moe-profile">${moe}</div></div>
    </div>
    ${c.sites.length ? html`<p class="muted">${m.sites}: ${c.sites.map((s) => `${s.name} (${s.link ?? "?"})`).join(", ")}</p>` : ""}
    <nav aria-label="${m.shortcuts}"><h2>${m.shortcuts}</h2><ul class="shortcuts">${SHORTCUTS.map(([href, key]) => html`<li><a href="${href}">${t(lang, key)}</a></li>`)}</ul></nav>`
}

export function overviewLive(lang: Lang, d: OverviewData): SafeHtml {
  const slots = d.workers.reduce((n, w) => n + w.models.reduce((m, s) => m + s.slots, 0), 0)
  const busy = d.workers.reduce((n, w) => n + w.models.reduce((m, s) => m + s.busy, 0), 0)
  const hw = (h: OverviewData["workers"][number]["hardware"]) =>
    `${h.os}/${h.arch} · ${h.cpu_threads} CPU · ${Math.round(h.ram_mb / 1024)} GB RAM${h.gpu ? ` · ${h.gpu}${h.vram_mb ? ` ${Math.round(h.vram_mb / 1024)} GB` : ""}` : ""}`
  return html`<div class="cards">
      <div class="card"><div class="k">${t(lang, "overview.workers")}</div><div class="v" id="worker-count">${d.workers.length}</div></div>
      <div class="card"><div class="k">${t(lang, "overview.capacity")}</div><div class="v">${busy} / ${slots}</div></div>
      <div class="card"><div class="k">${t(lang, "overview.models_served")}</div><div class="v">${d.models.length}</div></div>
      <div class="card"><div class="k">${t(lang, "overview.queue_depth")}</div><div class="v" id="queue-depth">${d.queueDepth}</div></div>
    </div>
    <h2>${t(lang, "overview.workers")}</h2>
    ${
      d.workers.length
        ? html`<table id="workers"><tr><th>${t(lang, "overview.worker")}</th><th>${t(lang, "overview.hardware")}</th><th>${t(lang, "overview.models")}</th><th>${t(lang, "overview.slots")}</th></tr>
        ${d.workers.map(
          (
            w,
          ) => html`<tr data-worker="${w.name}"><td>${w.name}<br><small class="muted">${w.activity}</small></td><td>${hw(w.hardware)}</td>
            <td>${w.models.map((m) => m.id).join(", ")}</td><td>${w.models.reduce((n, m) => n + m.busy, 0)} / ${w.models.reduce((n, m) => n + m.slots, 0)}</td></tr>`,
        )}</table>`
        : html`<p class="muted" id="no-workers">${t(lang, "overview.no_workers")}</p>`
    }
    <h2>${t(lang, "overview.models_served")}</h2>
    ${
      d.models.length
        ? html`<table id="models"><tr><th>${t(lang, "overview.models")}</th><th>${t(lang, "overview.kind")}</th><th>${t(lang, "overview.workers")}</th><th>${t(lang, "overview.slots")}</th></tr>
        ${d.models.map((m) => html`<tr><td>${m.id}</td><td>${m.kind}</td><td>${m.workers}</td><td>${m.slots}</td></tr>`)}</table>`
        : html`<p class="muted">${t(lang, "overview.no_models")}</p>`
    }`
}

export function overviewBody(lang: Lang, d: OverviewData): SafeHtml {
  const headcount = d.sites.reduce((n, s) => n + s.headcount, 0)
  return html`<div class="cards">
      <div class="card"><div class="k">${t(lang, "overview.pool")}</div><div class="v">${d.poolName}</div></div>
      <div class="card"><div class="k">${t(lang, "overview.company")}</div><div class="v">${d.company}</div></div>
      <div class="card"><div class="k">${t(lang, "overview.sector")}</div><div class="v">${d.sector ? t(lang, `setup.sector.${d.sector}`) : "—"}</div></div>
      <div class="card"><div class="k">${t(lang, "overview.headcount")}</div><div class="v" id="headcount">${headcount}</div></div>
    </div>
    <p class="muted">${t(lang, "overview.sites")}: ${d.sites.map((s) => `${s.name} (${s.headcount})`).join(", ") || "—"}</p>
    ${d.cluster ? clusterBlock(lang, d.cluster) : ""}
    ${d.proxies ? proxiesBlock(lang, d.proxies) : ""}
    <div id="live" data-sse="/overview/stream" hx-get="/overview/live" hx-trigger="every 2s" hx-swap="innerHTML"><p class="muted"><small>${t(lang, "overview.live")}</small></p>${overviewLive(lang, d)}</div>`
}
