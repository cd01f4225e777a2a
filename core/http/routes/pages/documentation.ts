// GET /documentation?lang=fr|en&q= — the Documentation page (§0.6): the guides of docs/, searchable.
// GET /documentation.pdf?lang=fr|en — the same guides as a branded PDF (admin only), built here with
// pdfkit: no network, no browser.
import { Elysia } from "elysia"
import type { PoolServices } from "../../../pool/services.ts"
import { type DocLang, markdownHtml, searchSections, sections } from "../../../docs/guides.ts"
import { dashboardPage, loginRedirect, pageRequest } from "../../dashboard-shell.ts"
import { t, type MessageKey } from "../../../../views/i18n.ts"
import { documentationBody } from "../../../../views/pages/documentation.ts"

const docLangOf = (request: Request, fallback: DocLang): DocLang => {
  const l = new URL(request.url).searchParams.get("lang")
  return l === "fr" || l === "en" ? l : fallback
}

export const documentationPage = (s: PoolServices) =>
  new Elysia()
    .get("/documentation", ({ request, server }) =>
      dashboardPage(s, request, server, {
        active: "documentation",
        title: (l) => t(l, "nav.documentation"),
        scripts: ["/assets/documentation.js"],
        body: ({ lang }) => {
          const docLang = docLangOf(request, lang)
          const query = new URL(request.url).searchParams.get("q") ?? ""
          return documentationBody(lang, {
            docLang,
            query,
            sections: sections(docLang),
            shown: new Set(searchSections(docLang, query).map((x) => x.id)),
            html: markdownHtml,
          })
        },
      }),
    )
    .get("/documentation.pdf", async ({ request, server }) => {
      const who = await pageRequest(s, request, server)
      if (!who) return loginRedirect(request)
      const lang = docLangOf(request, who.lang)
      const profile = await s.setup.readProfile()
      const logo = profile?.hasLogo ? await s.setup.readLogo() : null
      const company = profile?.company ?? s.config.poolName
      // pdfkit, fontkit and their tables cost ~17 MB of heap; loaded on the first download, not at boot
      // (issue 21: the idle pool's RSS, bench/README.md).
      const { documentationPdf } = await import("../../../docs/pdf.ts")
      const pdf = await documentationPdf({
        lang,
        company,
        logo: logo ?? undefined,
        pool: s.config.poolName,
        now: new Date(s.clock.now()),
        text: (key, vars) => t(lang, key as MessageKey, vars),
      })
      const file = `${company.replace(/[^A-Za-z0-9._-]+/g, "-")}-documentation-${lang}.pdf`
      return new Response(pdf as BodyInit, {
        headers: {
          "content-type": "application/pdf",
          "content-disposition": `attachment; filename="${file}"`,
          "cache-control": "no-store",
        },
      })
    })
