// views/layout — the dashboard shell every page renders into: header (company name and logo,
// language switch, logout), navigation for every page of the guide's §0, licence banner, body.
//
// Adding a dashboard page (other domains):
//   import { dashboardPage } from "../core/http/dashboard-shell.ts"        // resolves admin, lang, brand, banner
//   new Elysia().get("/federation", ({ request }) => dashboardPage(ctx, request, { active: "federation", title: "…", body: html`…` }))
// or, with everything already in hand, call renderPage() below directly (pure: data in, HTML out).
// Static routes like "/federation" take precedence over the shell's "coming with issue …" placeholder.
// Forms must carry the CSRF token: csrfField(page.csrf) in <form>, or rely on the hx-headers the
// shell sets on <body> for every HTMX request. No inline <script>: the CSP allows only /assets/*.
import { html, raw, type SafeHtml } from "./html.ts"
import { t, type Lang, type MessageKey } from "./i18n.ts"

export interface NavItem {
  id: string
  href: string
  label: MessageKey
  /** The issue that builds the page; while it has not landed, the shell shows a placeholder. */
  issue?: string
}

/** Every page of the guide's §0, in menu order. */
export const NAV: readonly NavItem[] = [
  { id: "overview", href: "/", label: "nav.overview" },
  {
    id: "federation",
    href: "/federation",
    label: "nav.federation",
    issue: "Federation: Ed25519 bonding and signed gossip",
  },
  { id: "workers", href: "/workers", label: "nav.workers", issue: "Worker lifecycle and provisioning" },
  { id: "balancing", href: "/balancing", label: "nav.balancing", issue: "Worker balancing and declared headcount" },
  { id: "projects", href: "/projects", label: "nav.projects" },
  { id: "topology", href: "/topology", label: "nav.topology", issue: "Topology: inter-site latency" },
  { id: "models", href: "/models", label: "nav.models" },
  { id: "settings", href: "/settings", label: "nav.settings", issue: "Advanced settings and gossip propagation" },
  { id: "license", href: "/license", label: "nav.license" },
  { id: "documentation", href: "/documentation", label: "nav.documentation" },
  { id: "audit", href: "/audit", label: "nav.audit" },
]

/** The pages an administrator scoped to projects may open. */
const SCOPED_NAV = new Set(["projects", "documentation"])

export interface PageAdmin {
  email: string
  /** Scoped to projects (sql/0028): the navigation shows only what it may open (core/http/admin-scope.ts). */
  scoped?: boolean
  /** The session's CSRF token; absent for X-Cellule-User (header) admins. */
  csrf?: string
}

export interface Brand {
  company: string
  /** URL of the logo (served from the database), when one was uploaded. */
  logoUrl?: string
}

export interface LicenseBanner {
  status: "active" | "warning_j30" | "grace" | "expired" | "revoked" | "none"
  daysRemaining?: number | null
  graceDaysRemaining?: number | null
}

export interface PageInput {
  lang: Lang
  admin: PageAdmin
  /** NavItem id of the current page. */
  active: string
  title: string
  body: SafeHtml
  brand: Brand
  license?: LicenseBanner
  /** Path of this page, so the language switch comes back to it. */
  path?: string
  /** Extra scripts served under /assets (e.g. "/assets/license.js"). */
  scripts?: string[]
}

export const csrfField = (csrf?: string) => (csrf ? html`<input type="hidden" name="_csrf" value="${csrf}">` : html``)

export function licenseBanner(lang: Lang, l?: LicenseBanner): SafeHtml {
  if (!l || l.status === "active") return html``
  const days = l.status === "grace" ? (l.graceDaysRemaining ?? 0) : (l.daysRemaining ?? 0)
  const level = l.status === "none" || l.status === "warning_j30" ? "warn" : "error"
  return html`<div class="banner banner-${level}" id="license-banner" data-status="${l.status}" role="status">
    ${t(lang, `banner.${l.status}`, { days })} <a href="/license">${t(lang, "banner.action")}</a></div>`
}

/** A bare page (login, setup): same head, assets and header, no navigation. */
export function renderBare(input: {
  lang: Lang
  title: string
  body: SafeHtml
  brand?: Brand
  path?: string
  scripts?: string[]
  csrf?: string
}): string {
  return document(
    input.lang,
    input.title,
    input.scripts ?? [],
    input.csrf,
    html`
  <header class="top">${brandBlock(input.lang, input.brand)}${langSwitch(input.lang, input.path ?? "/")}</header>
  <main class="bare">${input.body}</main>`,
  )
}

export function renderPage(p: PageInput): string {
  const nav = NAV.filter((n) => !p.admin.scoped || SCOPED_NAV.has(n.id)).map(
    (n) =>
      html`<li><a href="${n.href}" class="${n.id === p.active ? "active" : ""}" ${n.id === p.active ? raw('aria-current="page"') : ""}>${t(p.lang, n.label)}</a></li>`,
  )
  return document(
    p.lang,
    p.title,
    p.scripts ?? [],
    p.admin.csrf,
    html`
  <header class="top">
    ${brandBlock(p.lang, p.brand)}
    <div class="who">
      ${langSwitch(p.lang, p.path ?? "/")}
      <span class="email">${t(p.lang, "layout.signed_in_as", { email: p.admin.email })}</span>
      <form method="post" action="/logout" class="inline">${csrfField(p.admin.csrf)}<button type="submit" class="link">${t(p.lang, "layout.logout")}</button></form>
    </div>
  </header>
  ${licenseBanner(p.lang, p.license)}
  <div class="shell">
    <nav class="side" aria-label="main"><ul>${nav}</ul></nav>
    <main id="main"><h1>${p.title}</h1>${p.body}</main>
  </div>`,
  )
}

/** The "coming with issue …" body for pages whose issue has not landed yet. */
export function placeholderBody(lang: Lang, item: NavItem): SafeHtml {
  return html`<p class="placeholder">${t(lang, "placeholder.body", { issue: item.issue ?? "" })}</p>`
}

function brandBlock(lang: Lang, brand?: Brand) {
  return html`<a class="brand" href="/">${brand?.logoUrl ? html`<img src="${brand.logoUrl}" alt="" class="logo">` : ""}<span class="company">${brand?.company || t(lang, "app.name")}</span></a>`
}

function langSwitch(lang: Lang, path: string) {
  const next = encodeURIComponent(path)
  return html`<span class="lang" aria-label="${t(lang, "layout.language")}">${(["fr", "en"] as const).map((l) =>
    l === lang
      ? html`<strong>${l.toUpperCase()}</strong>`
      : html`<a href="/lang/${l}?next=${next}" hreflang="${l}">${l.toUpperCase()}</a>`,
  )}</span>`
}

// Forms answer 400 with the errors next to the fields: HTMX must swap 4xx bodies in too (not 5xx).
const HTMX_CONFIG = JSON.stringify({
  responseHandling: [
    { code: "204", swap: false },
    { code: "[23]..", swap: true },
    { code: "4..", swap: true, error: false },
    { code: "...", swap: false, error: true },
  ],
})

function document(lang: Lang, title: string, scripts: string[], csrf: string | undefined, body: SafeHtml): string {
  const hxHeaders = csrf ? JSON.stringify({ "x-csrf-token": csrf }) : undefined
  return (
    "<!doctype html>\n" +
    html`<html lang="${lang}">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>${title} — Cellule</title>
  <meta name="htmx-config" content="${HTMX_CONFIG}">
  <link rel="stylesheet" href="/assets/app.css">
  <script src="/assets/htmx.min.js" defer></script>
  ${scripts.map((s) => html`<script src="${s}" defer></script>`)}
</head>
<body ${hxHeaders ? html`hx-headers="${hxHeaders}"` : ""}>
${body}
</body>
</html>`.value
  )
}

/** A scoped administrator on a cluster page (403 admin_scope_forbidden): why, and the way back. */
export function scopeForbiddenPage(lang: Lang): string {
  return renderBare({
    lang,
    title: t(lang, "scope.title"),
    body: html`<h1>${t(lang, "scope.title")}</h1><p>${t(lang, "scope.body")}</p><p><a href="/projects">${t(lang, "scope.back")}</a></p>`,
  })
}
