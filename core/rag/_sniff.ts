// core/rag/_sniff — decides a document's type from its bytes, never from its name or the client's
// Content-Type: a renamed .exe stays unsupported, a PDF called notes.txt is still read as a PDF.
import { unzipSync } from "fflate"

export type DocumentType = "pdf" | "docx" | "odt" | "html" | "markdown" | "text" | "unsupported"

export const MIME: Record<DocumentType, string> = {
  pdf: "application/pdf",
  docx: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
  odt: "application/vnd.oasis.opendocument.text",
  html: "text/html",
  markdown: "text/markdown",
  text: "text/plain",
  unsupported: "application/octet-stream",
}

const startsWith = (b: Uint8Array, sig: number[], at = 0) => sig.every((v, i) => b[at + i] === v)

/** Names of a zip's entries, without inflating anything (the filter sees each entry and keeps none). */
export function zipEntries(bytes: Uint8Array): string[] {
  const names: string[] = []
  unzipSync(bytes, {
    filter: (f) => {
      names.push(f.name)
      return false
    },
  })
  return names
}

export function sniff(bytes: Uint8Array): DocumentType {
  if (startsWith(bytes, [0x25, 0x50, 0x44, 0x46, 0x2d])) return "pdf" // %PDF-
  if (startsWith(bytes, [0x50, 0x4b, 0x03, 0x04])) {
    // ODF puts an uncompressed "mimetype" entry first; its bytes sit right after the local header.
    const head = new TextDecoder().decode(bytes.subarray(30, 30 + 8 + 60))
    if (head.startsWith("mimetype") && head.includes("application/vnd.oasis.opendocument.text")) return "odt"
    try {
      return zipEntries(bytes).includes("word/document.xml") ? "docx" : "unsupported"
    } catch {
      // A damaged zip (no central directory) still names its entries in the local headers, uncompressed.
      return new TextDecoder("latin1").decode(bytes).includes("word/document.xml") ? "docx" : "unsupported"
    }
  }
  const text = decodeUtf8(bytes)
  if (text === null) return "unsupported"
  const head = text.slice(0, 2048).trimStart().toLowerCase()
  if (head.startsWith("<!doctype html") || head.startsWith("<html") || /<(body|p|div|h1|table)[\s>]/.test(head))
    return "html"
  if (/^(#{1,6} |[-*+] |\d+\. |```|> )/m.test(text.slice(0, 65536)) || /\[[^\]]+\]\([^)]+\)/.test(text.slice(0, 65536)))
    return "markdown"
  return "text"
}

/** The text of valid UTF-8 without NUL bytes (binary files have them), else null. A BOM is dropped. */
export function decodeUtf8(bytes: Uint8Array): string | null {
  try {
    const text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes)
    return text.includes("\u0000") ? null : text
  } catch {
    return null
  }
}
