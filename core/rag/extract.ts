// core/rag/extract — the text of a document, per page where the format has pages (PDF; ODT's
// soft page breaks), from its bytes. Pure: no database, no disk. Never throws for a bad document:
// the outcome says skipped (unsupported type, no text) or failed (encrypted, corrupt) with a reason.
import { Parser } from "htmlparser2"
import { unzipSync } from "fflate"
import { decodeUtf8, MIME, sniff, type DocumentType } from "./_sniff.ts"

export { MIME, sniff, type DocumentType } from "./_sniff.ts"

export interface Page {
  /** 1-based page number; null when the format has no pages (TXT, MD, HTML, DOCX). */
  page: number | null
  text: string
}

export type Extraction =
  | { status: "ok"; type: DocumentType; mime: string; pages: Page[] }
  | { status: "skipped"; type: DocumentType; mime: string; reason: "unsupported_type" | "empty_text" }
  | { status: "failed"; type: DocumentType; mime: string; reason: string }

// A zip entry inflating past this is a zip bomb, not a document.
const MAX_XML_BYTES = 256 * 1024 * 1024

export async function extract(bytes: Uint8Array): Promise<Extraction> {
  const type = sniff(bytes)
  const mime = MIME[type]
  if (type === "unsupported") return { status: "skipped", type, mime, reason: "unsupported_type" }
  let pages: Page[]
  try {
    pages = await pagesOf(type, bytes)
  } catch (e) {
    return { status: "failed", type, mime, reason: e instanceof ExtractFailure ? e.reason : `corrupt_${type}` }
  }
  pages = pages.map((p) => ({ page: p.page, text: normalise(p.text) }))
  if (!pages.some((p) => p.text.trim())) return { status: "skipped", type, mime, reason: "empty_text" }
  return { status: "ok", type, mime, pages }
}

class ExtractFailure extends Error {
  constructor(readonly reason: string) {
    super(reason)
  }
}

async function pagesOf(type: DocumentType, bytes: Uint8Array): Promise<Page[]> {
  switch (type) {
    case "pdf":
      return pdfPages(bytes)
    case "docx":
      return [{ page: null, text: await docxText(bytes) }]
    case "odt":
      return odtPages(bytes)
    case "html":
      return [{ page: null, text: htmlText(decodeUtf8(bytes) ?? "") }]
    default:
      return [{ page: null, text: decodeUtf8(bytes) ?? "" }]
  }
}

/** Unix newlines, no NUL, no trailing spaces on lines, at most one blank line in a row. */
function normalise(text: string): string {
  return text
    .replace(/\r\n?/g, "\n")
    .replaceAll("\u0000", "")
    .replace(/[ \t]+\n/g, "\n")
    .replace(/\n{3,}/g, "\n\n")
}

async function pdfPages(bytes: Uint8Array): Promise<Page[]> {
  // unpdf bundles a serverless pdf.js build (no canvas, no worker thread); imported on first use.
  const { extractText, getDocumentProxy } = await import("unpdf")
  let doc: Awaited<ReturnType<typeof getDocumentProxy>>
  try {
    // pdf.js detaches the buffer it is given: hand it a copy.
    doc = await getDocumentProxy(new Uint8Array(bytes))
  } catch (e) {
    const name = (e as { name?: string }).name ?? ""
    if (name === "PasswordException") throw new ExtractFailure("encrypted")
    throw new ExtractFailure("corrupt_pdf")
  }
  try {
    const { text } = await extractText(doc, { mergePages: false })
    return text.map((t, i) => ({ page: i + 1, text: t }))
  } finally {
    await doc.loadingTask.destroy().catch(() => {})
  }
}

async function docxText(bytes: Uint8Array): Promise<string> {
  const mammoth = await import("mammoth")
  try {
    const r = await mammoth.extractRawText({ buffer: Buffer.from(bytes) })
    return r.value
  } catch {
    throw new ExtractFailure("corrupt_docx")
  }
}

function inflate(bytes: Uint8Array, wanted: string[]): Record<string, Uint8Array> {
  try {
    return unzipSync(bytes, {
      filter: (f) => {
        if (!wanted.includes(f.name)) return false
        if (f.originalSize > MAX_XML_BYTES) throw new ExtractFailure("zip_bomb")
        return true
      },
    })
  } catch (e) {
    if (e instanceof ExtractFailure) throw e
    throw new ExtractFailure("corrupt_odt")
  }
}

/** ODT: paragraphs and headings of content.xml; LibreOffice's soft page breaks give page numbers. */
function odtPages(bytes: Uint8Array): Page[] {
  const files = inflate(bytes, ["content.xml", "META-INF/manifest.xml"])
  const manifest = files["META-INF/manifest.xml"]
  if (manifest && new TextDecoder().decode(manifest).includes("encryption-data")) throw new ExtractFailure("encrypted")
  const content = files["content.xml"]
  if (!content) throw new ExtractFailure("corrupt_odt")
  const xml = decodeUtf8(content)
  if (xml === null) throw new ExtractFailure("corrupt_odt")
  const pages: Page[] = [{ page: 1, text: "" }]
  let cur = pages[0]
  let depth = 0 // inside text:p / text:h
  const parser = new Parser(
    {
      onopentag(name) {
        if (name === "text:soft-page-break" || name === "text:page-break") {
          cur = { page: pages.length + 1, text: "" }
          pages.push(cur)
        } else if (name === "text:p" || name === "text:h") depth++
        else if (name === "text:s") cur.text += " "
        else if (name === "text:tab") cur.text += "\t"
        else if (name === "text:line-break") cur.text += "\n"
      },
      ontext(t) {
        if (depth > 0) cur.text += t
      },
      onclosetag(name) {
        if (name === "text:p" || name === "text:h") {
          depth--
          if (depth === 0) cur.text += "\n\n"
        }
      },
    },
    { xmlMode: true, decodeEntities: true },
  )
  parser.write(xml)
  parser.end()
  return pages
}

const BLOCK = new Set(
  "address article aside blockquote br dd div dl dt figcaption figure footer form h1 h2 h3 h4 h5 h6 header hr li main nav ol p pre section table td th tr ul".split(
    " ",
  ),
)
const HIDDEN = new Set(["script", "style", "noscript", "template", "head"])

/** HTML: visible text, one paragraph per block element; script, style and head are dropped. */
export function htmlText(html: string): string {
  let out = ""
  let hidden = 0
  const parser = new Parser(
    {
      onopentag(name) {
        if (HIDDEN.has(name)) hidden++
        else if (BLOCK.has(name)) out += name === "br" || name === "td" || name === "th" ? "\n" : "\n\n"
      },
      ontext(t) {
        if (!hidden) out += t.replace(/\s+/g, " ")
      },
      onclosetag(name) {
        if (HIDDEN.has(name)) hidden = Math.max(0, hidden - 1)
        else if (BLOCK.has(name)) out += "\n\n"
      },
    },
    { decodeEntities: true },
  )
  parser.write(html)
  parser.end()
  return out
    .split("\n")
    .map((l) => l.trim())
    .join("\n")
    .trim()
}
