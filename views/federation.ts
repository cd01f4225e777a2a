// views/federation — the Federation page (§0.2): this pool's identity, bonded sites with trust, last seen
// and link, "add a site" with a one-time attachment token, bond with a site, promote with confirmation.
// Pure: data in, HTML out. Strings: views/i18n.ts ("fed.*").
import { html, type SafeHtml } from "./html.ts"
import { t, type Lang } from "./i18n.ts"
import { csrfField } from "./layout.ts"

export interface FederationPageData {
  self: { atom_id: string; pool_name: string; url: string; mode: string }
  minTrust: number
  peers: {
    atom_id: string
    pool_name: string | null
    url: string
    trust_level: number
    last_seen: Date | string | null
    latency_ms: number | null
    link: string | null
    revoked_at: Date | string | null
  }[]
  token?: { token: string; expires_at: string }
  flash?: { ok: boolean; text: string }
}

const when = (d: Date | string | null) => (d ? new Date(d).toISOString().replace("T", " ").slice(0, 19) + " UTC" : null)

export function federationBody(lang: Lang, d: FederationPageData, csrf?: string): SafeHtml {
  return html`${d.flash ? html`<p class="flash ${d.flash.ok ? "" : "bad"}" id="fed-flash">${d.flash.text}</p>` : ""}
  <table id="fed-self">
    <tr><th>${t(lang, "fed.self")}</th><td>${d.self.pool_name}</td></tr>
    <tr><th>${t(lang, "fed.atom")}</th><td><code>${d.self.atom_id}</code></td></tr>
    <tr><th>${t(lang, "fed.url")}</th><td>${d.self.url}</td></tr>
    <tr><th>${t(lang, "fed.mode")}</th><td>${d.self.mode}</td></tr>
  </table>
  <h2>${t(lang, "fed.sites")}</h2>
  <p class="muted"><small>${t(lang, "fed.trust_help", { n: d.minTrust })}</small></p>
  ${
    d.peers.length
      ? html`<table id="fed-peers"><tr><th>${t(lang, "fed.name")}</th><th>${t(lang, "fed.atom")}</th><th>${t(lang, "fed.trust")}</th><th>${t(lang, "fed.last_seen")}</th><th>${t(lang, "fed.link")}</th><th></th></tr>
      ${d.peers.map(
        (
          p,
        ) => html`<tr data-atom="${p.atom_id}"><td>${p.pool_name ?? "—"}<br><small class="muted">${p.url}</small></td><td><code>${p.atom_id.slice(0, 17)}…</code></td>
        <td class="trust" data-trust="${p.trust_level}">${p.revoked_at ? t(lang, "fed.revoked") : p.trust_level}</td><td>${when(p.last_seen) ?? t(lang, "fed.never")}</td>
        <td>${p.link ? `${p.link.toUpperCase()} · ${p.latency_ms} ms` : "—"}</td>
        <td>${
          !p.revoked_at && p.trust_level < d.minTrust
            ? html`<form method="post" action="/federation/promote" data-confirm="${t(lang, "fed.promote_confirm", { n: d.minTrust })}">${csrfField(csrf)}
              <input type="hidden" name="atom_id" value="${p.atom_id}"><input type="hidden" name="target_level" value="${d.minTrust}">
              <button type="submit" class="secondary">${t(lang, "fed.promote")} ${d.minTrust}</button></form>`
            : ""
        }</td></tr>`,
      )}</table>`
      : html`<p class="muted" id="fed-none">${t(lang, "fed.none")}</p>`
  }
  <h2>${t(lang, "fed.add")}</h2>
  <p class="muted">${t(lang, "fed.add_help")}</p>
  ${d.token ? html`<p class="flash" id="fed-token"><code>${d.token.token}</code><br><small>${t(lang, "fed.token_once")} ${when(d.token.expires_at)}</small></p>` : ""}
  <form method="post" action="/federation/token">${csrfField(csrf)}<div class="actions"><button type="submit" id="fed-create-token">${t(lang, "fed.create_token")}</button></div></form>
  <h2>${t(lang, "fed.bond")}</h2>
  <p class="muted">${t(lang, "fed.bond_help")}</p>
  <form method="post" action="/federation/register">${csrfField(csrf)}
    <label for="peer-url">${t(lang, "fed.peer_url")}</label><input id="peer-url" name="url" type="url" required placeholder="http://pool-b.entreprise.local:18091">
    <label for="peer-token">${t(lang, "fed.token")}</label><input id="peer-token" name="token" autocomplete="off">
    <div class="actions"><button type="submit">${t(lang, "fed.submit_bond")}</button></div>
  </form>`
}
