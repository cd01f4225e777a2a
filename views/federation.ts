// views/federation — the Federation page (§0.2): this pool's identity, bonded sites with trust, last seen
// and link, "add a site" with a one-time attachment token, bond with a site, promote with confirmation.
// Pure: data in, HTML out. Strings in FR and EN live here (this page's own dictionary).
import { html, type SafeHtml } from "./html.ts"
import type { Lang } from "./i18n.ts"
import { csrfField } from "./layout.ts"

const M = {
  en: {
    title: "Federation",
    self: "This pool",
    atom: "Atom id",
    url: "Advertised URL",
    mode: "Mode",
    sites: "Bonded sites",
    none: "No bonded site yet. Add one below.",
    name: "Site",
    trust: "Trust",
    last_seen: "Last seen",
    link: "Link",
    latency: "Latency",
    never: "never",
    promote: "Promote to trust",
    promote_confirm: "Promote this site to trust {n}? Its signed changes will then be applied on this pool.",
    revoked: "revoked",
    add: "Add a site",
    add_help:
      "Create a one-time attachment token (valid 24 h, single use) and give it to the administrator of the other site, who enters it with this pool's URL.",
    create_token: "Create an attachment token",
    token_once: "Copy it now: it is shown only once. Expires",
    bond: "Bond with a site",
    bond_help:
      "Enter the other pool's URL and the token its administrator created. Both pools record the bond at trust 1; promote it on both sides to start gossip.",
    peer_url: "Pool URL",
    token: "Attachment token",
    submit_bond: "Bond",
    trust_help: "Trust 1: bonded, changes refused. Trust 3: changes applied (MIN_TRUST_LEVEL {n}).",
  },
  fr: {
    title: "Fédération",
    self: "Ce pool",
    atom: "Identifiant d'atome",
    url: "URL annoncée",
    mode: "Mode",
    sites: "Sites liés",
    none: "Aucun site lié pour l'instant. Ajoutez-en un ci-dessous.",
    name: "Site",
    trust: "Confiance",
    last_seen: "Vu pour la dernière fois",
    link: "Lien",
    latency: "Latence",
    never: "jamais",
    promote: "Promouvoir en confiance",
    promote_confirm:
      "Promouvoir ce site en confiance {n} ? Ses modifications signées seront alors appliquées sur ce pool.",
    revoked: "révoqué",
    add: "Ajouter un site",
    add_help:
      "Créez un jeton de rattachement à usage unique (valable 24 h) et transmettez-le à l'administrateur de l'autre site, qui le saisit avec l'URL de ce pool.",
    create_token: "Créer un jeton de rattachement",
    token_once: "Copiez-le maintenant : il n'est affiché qu'une fois. Expire le",
    bond: "Se lier à un site",
    bond_help:
      "Saisissez l'URL de l'autre pool et le jeton créé par son administrateur. Les deux pools enregistrent le lien en confiance 1 ; promouvez-le des deux côtés pour démarrer le gossip.",
    peer_url: "URL du pool",
    token: "Jeton de rattachement",
    submit_bond: "Lier",
    trust_help:
      "Confiance 1 : lié, modifications refusées. Confiance 3 : modifications appliquées (MIN_TRUST_LEVEL {n}).",
  },
} as const

export type FedKey = keyof (typeof M)["en"]
export function ft(lang: Lang, key: FedKey, vars: Record<string, string | number> = {}): string {
  return (M[lang] ?? M.en)[key].replace(/\{(\w+)\}/g, (_, k) => String(vars[k] ?? ""))
}

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
    <tr><th>${ft(lang, "self")}</th><td>${d.self.pool_name}</td></tr>
    <tr><th>${ft(lang, "atom")}</th><td><code>${d.self.atom_id}</code></td></tr>
    <tr><th>${ft(lang, "url")}</th><td>${d.self.url}</td></tr>
    <tr><th>${ft(lang, "mode")}</th><td>${d.self.mode}</td></tr>
  </table>
  <h2>${ft(lang, "sites")}</h2>
  <p class="muted"><small>${ft(lang, "trust_help", { n: d.minTrust })}</small></p>
  ${
    d.peers.length
      ? html`<table id="fed-peers"><tr><th>${ft(lang, "name")}</th><th>${ft(lang, "atom")}</th><th>${ft(lang, "trust")}</th><th>${ft(lang, "last_seen")}</th><th>${ft(lang, "link")}</th><th></th></tr>
      ${d.peers.map(
        (
          p,
        ) => html`<tr data-atom="${p.atom_id}"><td>${p.pool_name ?? "—"}<br><small class="muted">${p.url}</small></td><td><code>${p.atom_id.slice(0, 17)}…</code></td>
        <td class="trust" data-trust="${p.trust_level}">${p.revoked_at ? ft(lang, "revoked") : p.trust_level}</td><td>${when(p.last_seen) ?? ft(lang, "never")}</td>
        <td>${p.link ? `${p.link.toUpperCase()} · ${p.latency_ms} ms` : "—"}</td>
        <td>${
          !p.revoked_at && p.trust_level < d.minTrust
            ? html`<form method="post" action="/federation/promote" data-confirm="${ft(lang, "promote_confirm", { n: d.minTrust })}">${csrfField(csrf)}
              <input type="hidden" name="atom_id" value="${p.atom_id}"><input type="hidden" name="target_level" value="${d.minTrust}">
              <button type="submit" class="secondary">${ft(lang, "promote")} ${d.minTrust}</button></form>`
            : ""
        }</td></tr>`,
      )}</table>`
      : html`<p class="muted" id="fed-none">${ft(lang, "none")}</p>`
  }
  <h2>${ft(lang, "add")}</h2>
  <p class="muted">${ft(lang, "add_help")}</p>
  ${d.token ? html`<p class="flash" id="fed-token"><code>${d.token.token}</code><br><small>${ft(lang, "token_once")} ${when(d.token.expires_at)}</small></p>` : ""}
  <form method="post" action="/federation/token">${csrfField(csrf)}<div class="actions"><button type="submit" id="fed-create-token">${ft(lang, "create_token")}</button></div></form>
  <h2>${ft(lang, "bond")}</h2>
  <p class="muted">${ft(lang, "bond_help")}</p>
  <form method="post" action="/federation/register">${csrfField(csrf)}
    <label for="peer-url">${ft(lang, "peer_url")}</label><input id="peer-url" name="url" type="url" required placeholder="http://pool-b.entreprise.local:18091">
    <label for="peer-token">${ft(lang, "token")}</label><input id="peer-token" name="token" autocomplete="off">
    <div class="actions"><button type="submit">${ft(lang, "submit_bond")}</button></div>
  </form>`
}
