// views/pages/documentation — the Documentation page (§0.6): the guides of the chosen language, one
// block per section, a search box (GET ?q=, filtered on the server; documentation.js filters as you
// type), the PDF export and the API reference. Pure: sections in, HTML out.
import type { DocLang, Section } from "../../core/docs/guides.ts"
import { html, raw } from "../html.ts"
import { t, type Lang } from "../i18n.ts"

export function documentationBody(
  lang: Lang,
  o: { docLang: DocLang; query: string; sections: Section[]; shown: Set<string>; html: (md: string) => string },
) {
  const q = o.query.trim()
  const hits = o.sections.filter((s) => o.shown.has(s.id))
  return html`<div class="doc-tools">
    <form method="get" action="/documentation" role="search" class="doc-search">
      <input type="hidden" name="lang" value="${o.docLang}">
      <label for="doc-q">${t(lang, "documentation.search")}</label>
      <input type="search" id="doc-q" name="q" value="${q}" autocomplete="off">
      <button type="submit">${t(lang, "documentation.search_button")}</button>
    </form>
    <p class="doc-links">
      <span>${t(lang, "documentation.language")}:</span>
      ${(["fr", "en"] as const).map((l) =>
        l === o.docLang
          ? html`<strong>${l.toUpperCase()}</strong>`
          : html`<a href="/documentation?lang=${l}${q ? `&q=${encodeURIComponent(q)}` : ""}" hreflang="${l}">${l.toUpperCase()}</a>`,
      )}
      · <a id="doc-pdf" href="/documentation.pdf?lang=${o.docLang}" download>${t(lang, "documentation.export_pdf")}</a>
      · <a href="/docs">${t(lang, "documentation.api_reference")}</a>
    </p>
    <p id="doc-count" role="status">${q ? (hits.length ? t(lang, "documentation.matches", { n: hits.length, query: q }) : t(lang, "documentation.no_match", { query: q })) : ""}</p>
  </div>
  <nav class="doc-toc" aria-label="${t(lang, "documentation.contents")}"><ul>${hits
    .filter((s) => s.depth === 1)
    .map((s) => html`<li><a href="#${s.id}">${s.title}</a></li>`)}</ul></nav>
  <div id="doc-sections" lang="${o.docLang}">${o.sections.map(
    (s) =>
      html`<section class="doc-section" id="${s.id}" data-guide="${s.guide}" data-search="${s.haystack}" ${o.shown.has(s.id) ? "" : raw("hidden")}>${raw(shiftHeadings(o.html(s.markdown)))}</section>`,
  )}</div>`
}

/** The page has its own h1: the guides' "# " become h2, "## " h3, and so on. */
const shiftHeadings = (h: string) =>
  h.replace(
    /<(\/?)h([1-5])(\s|>)/g,
    (_m, slash: string, n: string, rest: string) => `<${slash}h${Number(n) + 1}${rest}`,
  )
