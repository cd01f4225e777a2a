// The French guides are the English ones translated, not summaries: for every guide, chapter by chapter,
// the same headings at the same levels in the same order, the same code blocks byte for byte, the same
// tables with the same number of rows; and the French prose is French (no paragraph left in English).
// The Documentation page's search finds words that only the French chapters hold.
import { describe, expect, test } from "bun:test"
import { marked, type Token, type Tokens } from "marked"
import { fold, guides, plainText, searchSections } from "../../../core/docs/guides.ts"

interface Shape {
  title: string
  headings: number[]
  code: string[]
  tables: number[]
  /** Paragraphs, list items, table cells and headings as plain text, code spans left out. */
  prose: string[]
}

const withoutCode = (tokens: Token[] | undefined): Token[] =>
  (tokens ?? [])
    .filter((t) => t.type !== "codespan")
    .map((t) => {
      const any = t as Tokens.Generic
      return any.tokens ? ({ ...t, tokens: withoutCode(any.tokens as Token[]) } as Token) : t
    })

function shape(md: string): Shape {
  const s: Shape = { title: md.split("\n")[0], headings: [], code: [], tables: [], prose: [] }
  const walk = (tokens: Token[]) => {
    for (const t of tokens) {
      if (t.type === "heading") {
        s.headings.push((t as Tokens.Heading).depth)
        s.prose.push(plainText(withoutCode((t as Tokens.Heading).tokens)))
      } else if (t.type === "code") s.code.push((t as Tokens.Code).text)
      else if (t.type === "table") {
        const tb = t as Tokens.Table
        s.tables.push(tb.rows.length)
        for (const row of [tb.header, ...tb.rows]) for (const c of row) s.prose.push(plainText(withoutCode(c.tokens)))
      } else if (t.type === "paragraph" || t.type === "text") {
        s.prose.push(plainText(withoutCode((t as Tokens.Paragraph).tokens)))
      } else if (t.type === "list") for (const item of (t as Tokens.List).items) walk(item.tokens)
      else if (t.type === "blockquote") walk((t as Tokens.Blockquote).tokens)
    }
  }
  walk(marked.lexer(md))
  s.prose = s.prose.map((p) => p.replace(/\s+/g, " ").trim()).filter((p) => /[a-z]{3}/i.test(p))
  return s
}

const words = (texts: string[]) => fold(texts.join(" ")).match(/[a-z]+/g) ?? []
const EN_WORDS = new Set(["the", "and", "is", "are", "of", "with", "to", "which", "when", "its", "it", "that"])
const FR_WORDS = new Set(["le", "la", "les", "des", "est", "et", "du", "une", "pour", "dans", "qui", "sur"])
const share = (ws: string[], set: Set<string>) => ws.filter((w) => set.has(w)).length / Math.max(1, ws.length)

const en = guides("en")
const fr = guides("fr")

test("both languages have the same guides with the same number of chapters", () => {
  expect(fr.map((g) => g.id)).toEqual(en.map((g) => g.id))
  for (const [i, g] of en.entries()) expect(fr[i].chapters.length).toBe(g.chapters.length)
})

for (const [gi, g] of en.entries()) {
  describe(`guide "${g.id}"`, () => {
    for (const [ci, chapter] of g.chapters.entries()) {
      const e = shape(chapter)
      const f = shape(fr[gi]?.chapters[ci] ?? "")
      test(`chapter ${ci + 1} (${e.title}): same headings, code blocks and tables in French`, () => {
        expect(f.headings).toEqual(e.headings)
        expect(f.code).toEqual(e.code)
        expect(f.tables).toEqual(e.tables)
      })
      test(`chapter ${ci + 1} (${e.title}): the French prose is French, not the English left in place`, () => {
        const english = new Set(e.prose.filter((p) => p.length > 40))
        expect(f.prose.filter((p) => english.has(p))).toEqual([])
        const fw = words(f.prose)
        expect(fw.length).toBeGreaterThan(words(e.prose).length * 0.7) // not a summary
        expect(share(fw, FR_WORDS)).toBeGreaterThan(0.08)
        expect(share(fw, EN_WORDS)).toBeLessThan(0.01)
        expect(share(words(e.prose), EN_WORDS)).toBeGreaterThan(0.08) // the measure tells the two apart
        // Paragraph by paragraph too: one left in English in a long chapter is caught.
        const leftInEnglish = f.prose.filter((p) => {
          const ws = words([p])
          return ws.length >= 8 && share(ws, EN_WORDS) > 0.1 && share(ws, FR_WORDS) < 0.05
        })
        expect(leftInEnglish).toEqual([])
      })
    }
  })
}

test("the French search finds a section of the translated workers chapter, the English one does not", () => {
  const hits = searchSections("fr", "clavier souris")
  expect(hits.map((s) => s.title)).toEqual(["Dormant veut dire dormant"])
  expect(hits[0].guide).toBe("admin")
  expect(searchSections("en", "clavier souris")).toEqual([])
  expect(searchSections("fr", "retention GFS").map((s) => s.title)).toEqual(["Rétention (GFS)"])
})
