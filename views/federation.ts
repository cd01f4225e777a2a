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
  /** The latest refused envelopes, with their reason (§6.2: the remedy is shown beside it). */
  rejects?: {
    at: Date | string
    from_peer: string | null
    origin: string | null
    kind: string | null
    reason: string
    detail: string | null
  }[]
  token?: { token: string; expires_at: string }
  flash?: { ok: boolean; text: string }
}

// The peer actions and the refused-envelope remedies (§6.2); here because the shared dictionaries are full.
const M = {
  en: {
    revoke: "Revoke",
    revoke_confirm: "Revoke this site? Its envelopes are refused from now on; the bond stays listed.",
    unbond: "Unbond",
    unbond_confirm: "Remove the bond with this site? It must be bonded again to exchange anything.",
    rebond: "Re-bond",
    rebond_help: "Attachment token from that site (re-bond after its key changed)",
    rejects: "Refused envelopes",
    none: "No envelope was refused.",
    reason: "Reason",
    remedy: "What to do",
    from: "From",
    remedies: {
      signature_invalid: "Stale peer public key (the site's key changed): re-bond the peer with the button above.",
      origin_unknown: "The origin pool is not bonded here: bond it, or let a peer that knows it relay again.",
      origin_revoked: "The origin was revoked here: re-bond it if it is trusted again.",
      origin_untrusted: "The origin's trust is below the minimum: promote it once you trust it.",
      clock_skew: "The origin's clock is ahead: fix its time (NTP).",
      kind_unknown: "The origin runs a newer version: upgrade this pool.",
      payload_invalid: "The pools disagree on a value's format: run the same version everywhere.",
      envelope_version: "The pools run different protocol versions: upgrade them to the same release.",
      sequence_gap: "Transient: anti-entropy fills the gap; if it persists, check the links between sites.",
      replay: "Harmless: an envelope received twice.",
      equivocation:
        "Two different envelopes with one number: the origin's key may be shared or stolen; revoke it and re-key.",
      other: "Check the pool logs (§6.2).",
    } as Record<string, string>,
  },
  fr: {
    revoke: "Révoquer",
    revoke_confirm: "Révoquer ce site ? Ses enveloppes seront refusées ; le lien reste listé.",
    unbond: "Dissocier",
    unbond_confirm: "Supprimer le lien avec ce site ? Il faudra l'associer de nouveau pour échanger.",
    rebond: "Ré-associer",
    rebond_help: "Jeton d'association de ce site (ré-association après un changement de clé)",
    rejects: "Enveloppes refusées",
    none: "Aucune enveloppe refusée.",
    reason: "Motif",
    remedy: "Que faire",
    from: "Depuis",
    remedies: {
      signature_invalid:
        "Clé publique du pair périmée (la clé du site a changé) : ré-associez le pair avec le bouton ci-dessus.",
      origin_unknown:
        "Le pool d'origine n'est pas associé ici : associez-le, ou laissez un pair qui le connaît relayer.",
      origin_revoked: "L'origine a été révoquée ici : ré-associez-la si elle est de nouveau de confiance.",
      origin_untrusted: "La confiance de l'origine est sous le minimum : promouvez-la quand vous lui faites confiance.",
      clock_skew: "L'horloge de l'origine est en avance : corrigez son heure (NTP).",
      kind_unknown: "L'origine a une version plus récente : mettez ce pool à jour.",
      payload_invalid: "Les pools ne s'accordent pas sur un format : utilisez la même version partout.",
      envelope_version: "Les pools ont des versions de protocole différentes : mettez-les à la même version.",
      sequence_gap: "Passager : l'anti-entropie comble le trou ; s'il persiste, vérifiez les liens entre sites.",
      replay: "Sans gravité : une enveloppe reçue deux fois.",
      equivocation:
        "Deux enveloppes différentes sous un même numéro : la clé de l'origine est peut-être partagée ou volée ; révoquez-la.",
      other: "Consultez les journaux du pool (§6.2).",
    } as Record<string, string>,
  },
} as const

function peerActions(lang: Lang, p: FederationPageData["peers"][number], csrf?: string): SafeHtml {
  const m = M[lang] ?? M.en
  const hidden = html`${csrfField(csrf)}<input type="hidden" name="atom_id" value="${p.atom_id}">`
  return html`${p.revoked_at ? "" : html`<form method="post" action="/federation/revoke" data-confirm="${m.revoke_confirm}">${hidden}<button type="submit" class="secondary">${m.revoke}</button></form>`}
    <form method="post" action="/federation/unbond" data-confirm="${m.unbond_confirm}">${hidden}<button type="submit" class="danger">${m.unbond}</button></form>
    <form method="post" action="/federation/rebond" data-confirm="${m.rebond}: ${p.pool_name ?? p.url}?">${hidden}<input type="hidden" name="url" value="${p.url}">
      <label for="rebond-${p.atom_id}">${m.rebond_help}</label><input id="rebond-${p.atom_id}" name="token" autocomplete="off">
      <button type="submit" class="secondary">${m.rebond}</button></form>`
}

function rejectsBlock(lang: Lang, rows: NonNullable<FederationPageData["rejects"]>): SafeHtml {
  const m = M[lang] ?? M.en
  return html`<h2>${m.rejects}</h2>${
    rows.length
      ? html`<div class="table-wrap"><table id="fed-rejects"><tr><th scope="col">${t(lang, "fed.last_seen")}</th><th scope="col">${m.from}</th><th scope="col">${m.reason}</th><th scope="col">${m.remedy}</th></tr>
      ${rows.map(
        (
          r,
        ) => html`<tr data-reason="${r.reason}"><td>${when(r.at)}</td><td><code>${(r.origin ?? r.from_peer ?? "?").slice(0, 17)}</code> ${r.kind ?? ""}</td>
        <td><code>${r.reason}</code>${r.detail ? html`<br><small class="muted">${r.detail.slice(0, 200)}</small>` : ""}</td><td>${m.remedies[r.reason] ?? m.remedies.other}</td></tr>`,
      )}</table></div>`
      : html`<p class="muted" id="fed-no-rejects">${m.none}</p>`
  }`
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
        }${peerActions(lang, p, csrf)}</td></tr>`,
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
  </form>
  ${rejectsBlock(lang, d.rejects ?? [])}`
}
