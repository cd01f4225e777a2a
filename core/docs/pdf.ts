// core/docs/pdf — the guides as one branded PDF: a cover with the company's logo and name, a table of
// contents with page numbers and links, the guides, and "Page n of N" on every page. pdfkit with
// DejaVu fonts embedded from the binary: no network, no browser. Pure apart from reading the fonts.
import PDFDocument from "pdfkit"
import SVGtoPDF from "svg-to-pdfkit"
import { marked, type Token, type Tokens } from "marked"
import sansPath from "../../node_modules/dejavu-fonts-ttf/ttf/DejaVuSans.ttf" with { type: "file" }
import boldPath from "../../node_modules/dejavu-fonts-ttf/ttf/DejaVuSans-Bold.ttf" with { type: "file" }
import obliquePath from "../../node_modules/dejavu-fonts-ttf/ttf/DejaVuSans-Oblique.ttf" with { type: "file" }
import monoPath from "../../node_modules/dejavu-fonts-ttf/ttf/DejaVuSansMono.ttf" with { type: "file" }
import { type DocLang, guides, plainText } from "./guides.ts"

export interface PdfInput {
  lang: DocLang
  company: string
  logo?: { bytes: Uint8Array; mime: string }
  pool: string
  now: Date
  /** Translated labels: title, subtitle, generated ({date}, {pool}), contents, page ({n}, {total}), guide names. */
  text: (key: string, vars?: Record<string, string | number>) => string
}

const ACCENT = "#2f5bd3"
const FG = "#1d2433"
const MUTED = "#5b6478"
const TOC_LINES_PER_PAGE = 34

let fonts: Record<"sans" | "bold" | "oblique" | "mono", Buffer> | undefined
async function loadFonts() {
  fonts ??= {
    sans: Buffer.from(await Bun.file(sansPath).arrayBuffer()),
    bold: Buffer.from(await Bun.file(boldPath).arrayBuffer()),
    oblique: Buffer.from(await Bun.file(obliquePath).arrayBuffer()),
    mono: Buffer.from(await Bun.file(monoPath).arrayBuffer()),
  }
  return fonts
}

const unescapeHtml = (s: string) =>
  s
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, "&")

interface Run {
  text: string
  font: "sans" | "bold" | "oblique" | "mono"
  link?: string
}

function runsOf(tokens: Token[] | undefined, font: Run["font"] = "sans", link?: string): Run[] {
  const out: Run[] = []
  for (const t of tokens ?? []) {
    const g = t as Tokens.Generic
    switch (t.type) {
      case "strong":
        out.push(...runsOf(g.tokens as Token[], "bold", link))
        break
      case "em":
        out.push(...runsOf(g.tokens as Token[], font === "bold" ? "bold" : "oblique", link))
        break
      case "codespan":
        out.push({ text: unescapeHtml(String(g.text)).replace(/\s*\n\s*/g, " "), font: "mono", link })
        break
      case "link":
        out.push(...runsOf(g.tokens as Token[], font, /^https?:/.test(String(g.href)) ? String(g.href) : undefined))
        break
      case "br":
        out.push({ text: " ", font })
        break
      case "html":
        break
      default:
        if (g.tokens) out.push(...runsOf(g.tokens as Token[], font, link))
        // A soft line break in markdown is a space (pdfkit's continued text misplaces runs after a "\n").
        else out.push({ text: unescapeHtml(String(g.text ?? g.raw ?? "")).replace(/\s*\n\s*/g, " "), font, link })
    }
  }
  return out.filter((r) => r.text.length > 0)
}

interface TocEntry {
  title: string
  depth: 0 | 1 | 2
  page: number
  dest: string
}

/** The guides of `lang` as a PDF file. */
export async function documentationPdf(input: PdfInput): Promise<Uint8Array> {
  const f = await loadFonts()
  const doc = new PDFDocument({
    size: "A4",
    margins: { top: 64, bottom: 64, left: 60, right: 60 },
    bufferPages: true,
    autoFirstPage: true,
    font: f.sans as unknown as string,
    info: {
      Title: `${input.company} — ${input.text("pdf.title")}`,
      Author: input.company,
      Subject: input.text("pdf.subtitle"),
      Creator: "Cellule",
      CreationDate: input.now,
    },
    lang: input.lang,
  } as PDFKit.PDFDocumentOptions)
  for (const [name, buf] of Object.entries(f)) doc.registerFont(name, buf)
  const chunks: Buffer[] = []
  doc.on("data", (c: Buffer) => chunks.push(c))
  const done = new Promise<void>((resolve, reject) => {
    doc.on("end", () => resolve())
    doc.on("error", reject)
  })
  const width = doc.page.width - 120

  // Cover.
  const logoBox = { x: (doc.page.width - 220) / 2, y: 150, w: 220, h: 140 }
  if (input.logo) drawLogo(doc, input.logo, logoBox)
  doc
    .font("bold")
    .fontSize(28)
    .fillColor(FG)
    .text(input.company, 60, 320, { width, align: "center" })
    .moveDown(0.6)
    .font("sans")
    .fontSize(20)
    .fillColor(ACCENT)
    .text(input.text("pdf.title"), { width, align: "center" })
    .moveDown(0.4)
    .fontSize(13)
    .fillColor(MUTED)
    .text(input.text("pdf.subtitle"), { width, align: "center" })
    .moveDown(2)
    .fontSize(10)
    .text(input.text("pdf.generated", { date: input.now.toISOString().slice(0, 10), pool: input.pool }), {
      width,
      align: "center",
    })

  // Reserve the table of contents: one line per guide and per heading of depth 1 or 2.
  const headings = guides(input.lang).map((g) =>
    g.chapters.flatMap((c) => marked.lexer(c).filter((t) => t.type === "heading" && (t as Tokens.Heading).depth <= 2)),
  )
  const tocLines = headings.reduce((n, h) => n + 1 + h.length, 0)
  const tocPages = Math.ceil((tocLines + 2) / TOC_LINES_PER_PAGE)
  const tocStart = 1
  for (let i = 0; i < tocPages; i++) doc.addPage()

  // The guides.
  const toc: TocEntry[] = []
  let n = 0
  const mark = (title: string, depth: TocEntry["depth"]) => {
    const dest = `s${++n}`
    doc.addNamedDestination(dest)
    toc.push({ title, depth, page: doc.bufferedPageRange().start + doc.bufferedPageRange().count, dest })
    doc.outline.addItem(title)
  }
  for (const g of guides(input.lang)) {
    doc.addPage()
    const title = input.text(`documentation.guide.${g.id}`)
    mark(title, 0)
    doc.font("bold").fontSize(24).fillColor(ACCENT).text(title, { width }).moveDown(0.8)
    for (const chapter of g.chapters) {
      for (const t of marked.lexer(chapter)) block(doc, t, width, 0, mark)
    }
  }

  // The table of contents, now that pages are known.
  doc.switchToPage(tocStart)
  doc.font("bold").fontSize(20).fillColor(FG).text(input.text("pdf.contents"), 60, 64, { width }).moveDown(0.8)
  let line = 2
  for (const e of toc) {
    if (line >= TOC_LINES_PER_PAGE) {
      doc.switchToPage(doc.bufferedPageRange().start + tocStart + Math.floor(line / TOC_LINES_PER_PAGE))
      doc.y = 64
      line = line - (line % TOC_LINES_PER_PAGE)
    }
    const indent = e.depth * 14
    const y = doc.y
    doc
      .font(e.depth === 0 ? "bold" : "sans")
      .fontSize(e.depth === 0 ? 12 : 10)
      .fillColor(e.depth === 0 ? ACCENT : FG)
    const label = e.title.length > 80 ? `${e.title.slice(0, 78)}…` : e.title
    doc.text(label, 60 + indent, y, { width: width - indent - 40, goTo: e.dest, lineBreak: false, height: 14 })
    doc.text(String(e.page), 60, y, { width, align: "right", lineBreak: false })
    doc.y = y + 19
    line++
  }

  // Page numbers (the cover has none) and the company name in every footer.
  const range = doc.bufferedPageRange()
  for (let i = range.start + 1; i < range.start + range.count; i++) {
    doc.switchToPage(i)
    const bottom = doc.page.margins.bottom
    doc.page.margins.bottom = 0
    doc.font("sans").fontSize(8).fillColor(MUTED)
    doc.text(input.company, 60, doc.page.height - 40, { width: width / 2, lineBreak: false })
    doc.text(input.text("pdf.page", { n: i + 1, total: range.count }), 60, doc.page.height - 40, {
      width,
      align: "right",
      lineBreak: false,
    })
    doc.page.margins.bottom = bottom
  }
  doc.end()
  await done
  return new Uint8Array(Buffer.concat(chunks))
}

function drawLogo(
  doc: PDFKit.PDFDocument,
  logo: { bytes: Uint8Array; mime: string },
  box: { x: number; y: number; w: number; h: number },
) {
  try {
    if (logo.mime.includes("svg"))
      SVGtoPDF(doc, new TextDecoder().decode(logo.bytes), box.x, box.y, {
        width: box.w,
        height: box.h,
        preserveAspectRatio: "xMidYMid meet",
      })
    else doc.image(Buffer.from(logo.bytes), box.x, box.y, { fit: [box.w, box.h], align: "center", valign: "center" })
  } catch {
    // A logo pdfkit cannot draw leaves the cover with the company name only, rather than no PDF.
  }
}

type Mark = (title: string, depth: 1 | 2) => void

function inline(doc: PDFKit.PDFDocument, runs: Run[], x: number, width: number, size: number, color = FG) {
  if (runs.length === 0) return
  // One font size for the whole paragraph: pdfkit's continued text wraps wrongly when it changes.
  doc.fontSize(size)
  runs.forEach((r, i) => {
    doc.font(r.font).fillColor(r.link ? ACCENT : color)
    const continued = i < runs.length - 1
    if (i === 0) doc.text(r.text, x, doc.y, { width, continued, link: r.link ?? null, lineGap: 1.5 })
    else doc.text(r.text, { continued, link: r.link ?? null })
  })
}

function block(doc: PDFKit.PDFDocument, t: Token, width: number, indent: number, mark: Mark) {
  const x = 60 + indent
  const w = width - indent
  switch (t.type) {
    case "heading": {
      const h = t as Tokens.Heading
      const size = h.depth === 1 ? 18 : h.depth === 2 ? 14 : 11.5
      if (doc.y > doc.page.height - 160) doc.addPage()
      doc.moveDown(h.depth <= 2 ? 0.8 : 0.4)
      if (h.depth <= 2) mark(plainText(h.tokens, h.text).trim(), h.depth as 1 | 2)
      inline(
        doc,
        runsOf(h.tokens).map((r) => ({ ...r, font: r.font === "mono" ? "mono" : "bold" })),
        x,
        w,
        size,
        h.depth === 1 ? ACCENT : FG,
      )
      doc.moveDown(0.3)
      break
    }
    case "paragraph":
      inline(doc, runsOf((t as Tokens.Paragraph).tokens), x, w, 10)
      doc.moveDown(0.5)
      break
    case "text":
      inline(doc, runsOf((t as Tokens.Text).tokens ?? [t]), x, w, 10)
      break
    case "list": {
      const l = t as Tokens.List
      l.items.forEach((item, i) => {
        const bullet = l.ordered ? `${Number(l.start || 1) + i}.` : "•"
        const y = doc.y
        doc.font("sans").fontSize(10).fillColor(FG).text(bullet, x, y, { width: 16, lineBreak: false })
        doc.y = y
        for (const sub of item.tokens) {
          if (sub.type === "text") inline(doc, runsOf((sub as Tokens.Text).tokens ?? [sub]), x + 16, w - 16, 10)
          else block(doc, sub, width, indent + 16, mark)
        }
        doc.moveDown(0.2)
      })
      doc.moveDown(0.3)
      break
    }
    case "code": {
      const text = (t as Tokens.Code).text
      doc
        .font("mono")
        .fontSize(8)
        .fillColor("#2b3140")
        .text(text, x + 8, doc.y, { width: w - 8, lineGap: 1 })
      doc.moveDown(0.6)
      break
    }
    case "blockquote":
      for (const sub of (t as Tokens.Blockquote).tokens) block(doc, sub, width, indent + 14, mark)
      break
    case "table":
      table(doc, t as Tokens.Table, x, w)
      break
    case "hr":
      doc
        .moveTo(x, doc.y)
        .lineTo(x + w, doc.y)
        .strokeColor("#d9dee8")
        .stroke()
        .moveDown(0.5)
      break
    default:
      break
  }
}

function table(doc: PDFKit.PDFDocument, tb: Tokens.Table, x: number, w: number) {
  const cols = tb.header.length
  const colW = w / cols
  const rows = [tb.header, ...tb.rows]
  rows.forEach((row, ri) => {
    const texts = row.map((c) => plainText(c.tokens, c.text).replace(/\s+/g, " ").trim())
    doc.font(ri === 0 ? "bold" : "sans").fontSize(8)
    const h = Math.max(...texts.map((s) => doc.heightOfString(s, { width: colW - 6 }))) + 6
    if (doc.y + h > doc.page.height - doc.page.margins.bottom) doc.addPage()
    const y = doc.y
    if (ri === 0) doc.rect(x, y, w, h).fill("#eef1f7")
    texts.forEach((s, ci) => {
      doc
        .font(ri === 0 ? "bold" : "sans")
        .fontSize(8)
        .fillColor(FG)
        .text(s, x + ci * colW + 3, y + 3, { width: colW - 6 })
    })
    doc
      .moveTo(x, y + h)
      .lineTo(x + w, y + h)
      .strokeColor("#d9dee8")
      .stroke()
    doc.x = x
    doc.y = y + h
  })
  doc.moveDown(0.6)
}
