// core/docs/guides — the administrator, API and security guides of docs/ (English, and French under
// docs/fr/, chapter for chapter: each French file translates the English file of the same name, a test
// holds them to the same headings, code blocks and tables), embedded in the binary as text, cut into
// sections for the Documentation page's search and the PDF's table of contents. Pure: no I/O, no HTTP.
import { Marked, marked, type Token, type Tokens } from "marked"
import { escapeHtml } from "../../views/html.ts"
import setupEn from "../../docs/setup.md" with { type: "text" }
import workersEn from "../../docs/workers.md" with { type: "text" }
import federationEn from "../../docs/federation.md" with { type: "text" }
import backupEn from "../../docs/backup.md" with { type: "text" }
import auditEn from "../../docs/audit.md" with { type: "text" }
import apiKeysEn from "../../docs/api-keys.md" with { type: "text" }
import projectsEn from "../../docs/projects.md" with { type: "text" }
import securityEn from "../../docs/security.md" with { type: "text" }
import setupFr from "../../docs/fr/setup.md" with { type: "text" }
import workersFr from "../../docs/fr/workers.md" with { type: "text" }
import federationFr from "../../docs/fr/federation.md" with { type: "text" }
import backupFr from "../../docs/fr/backup.md" with { type: "text" }
import auditFr from "../../docs/fr/audit.md" with { type: "text" }
import apiKeysFr from "../../docs/fr/api-keys.md" with { type: "text" }
import projectsFr from "../../docs/fr/projects.md" with { type: "text" }
import securityFr from "../../docs/fr/security.md" with { type: "text" }

export type DocLang = "en" | "fr"
export type GuideId = "admin" | "api" | "security"

export interface Guide {
  id: GuideId
  /** The guide's chapters: one markdown file each, starting with its "# " title. */
  chapters: string[]
}

const GUIDES: Record<DocLang, Guide[]> = {
  en: [
    { id: "admin", chapters: [setupEn, workersEn, federationEn, backupEn, auditEn] },
    { id: "api", chapters: [apiKeysEn, projectsEn] },
    { id: "security", chapters: [securityEn] },
  ],
  fr: [
    { id: "admin", chapters: [setupFr, workersFr, federationFr, backupFr, auditFr] },
    { id: "api", chapters: [apiKeysFr, projectsFr] },
    { id: "security", chapters: [securityFr] },
  ],
}

export const guides = (lang: DocLang): readonly Guide[] => GUIDES[lang]

/** A heading of depth 1 or 2 and what follows it up to the next one. */
export interface Section {
  guide: GuideId
  /** Unique in the language: "admin-3". */
  id: string
  depth: 1 | 2
  title: string
  /** The section's markdown, heading included. */
  markdown: string
  /** Lower-case, accent-free plain text, for search. */
  haystack: string
}

/** Lower case without accents, so "securite" finds "sécurité". */
export const fold = (s: string) =>
  s
    .normalize("NFD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()

const BLOCKS = new Set(["paragraph", "heading", "list", "table", "code", "blockquote", "space", "hr", "html"])

/** The plain text of inline markdown ("**a** `b`" → "a b"). */
export function plainText(tokens: Token[] | undefined, raw = ""): string {
  if (!tokens) return raw
  return tokens
    .map((t) => {
      const any = t as Tokens.Generic
      if (any.tokens) return plainText(any.tokens as Token[])
      if (t.type === "list") return (t as Tokens.List).items.map((i) => plainText(i.tokens)).join(" ")
      if (t.type === "table") {
        const tb = t as Tokens.Table
        return [tb.header, ...tb.rows].map((r) => r.map((c) => plainText(c.tokens)).join(" ")).join(" ")
      }
      return "text" in any ? String(any.text) : ""
    })
    .map((text, i) => (BLOCKS.has(tokens[i].type) ? ` ${text} ` : text))
    .join("")
}

const cache = new Map<DocLang, Section[]>()

export function sections(lang: DocLang): Section[] {
  const hit = cache.get(lang)
  if (hit) return hit
  const out: Section[] = []
  for (const g of GUIDES[lang]) {
    for (const chapter of g.chapters) {
      let cur: { depth: 1 | 2; title: string; tokens: Token[] } | undefined
      const flush = () => {
        if (!cur) return
        const markdown = cur.tokens.map((t) => t.raw).join("")
        out.push({
          guide: g.id,
          id: `${g.id}-${out.length + 1}`,
          depth: cur.depth,
          title: cur.title,
          markdown,
          haystack: fold(plainText(cur.tokens)),
        })
      }
      for (const t of marked.lexer(chapter)) {
        if (t.type === "heading" && (t as Tokens.Heading).depth <= 2) {
          flush()
          const h = t as Tokens.Heading
          cur = { depth: h.depth as 1 | 2, title: plainText(h.tokens, h.text), tokens: [t] }
        } else if (cur) cur.tokens.push(t)
        else cur = { depth: 1, title: "", tokens: [t] }
      }
      flush()
    }
  }
  cache.set(lang, out)
  return out
}

/** The sections holding every word of `query` (all of them for an empty query). */
export function searchSections(lang: DocLang, query: string): Section[] {
  const words = fold(query).split(/\s+/).filter(Boolean)
  return sections(lang).filter((s) => words.every((w) => s.haystack.includes(w) || fold(s.title).includes(w)))
}

// Raw HTML in a guide is shown as text, never as markup: a "<script>" written in prose stays prose.
const toHtml = new Marked({ gfm: true, renderer: { html: ({ text }) => escapeHtml(text) } })

/** Markdown as HTML for the dashboard (raw HTML in the markdown is escaped). */
export const markdownHtml = (md: string): string => toHtml.parse(md, { async: false })
