import { describe, expect, test } from "bun:test"
import { extract, sniff } from "../../../core/rag/extract.ts"
import {
  docxDocument,
  htmlDocument,
  markdownDocument,
  odtDocument,
  pdfDocument,
  textDocument,
} from "../../fixtures/documents.ts"

describe("extract", () => {
  test.each([
    ["text", textDocument(["The lease ends in March.", "Rent is due monthly."]), "text/plain"],
    ["markdown", markdownDocument("Contract", ["The lease ends in March."]), "text/markdown"],
    ["html", htmlDocument("Contract", ["The lease ends in March."]), "text/html"],
    [
      "docx",
      docxDocument(["The lease ends in March.", "Rent is due monthly."]),
      "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ],
    ["odt", odtDocument([["The lease ends in March."]]), "application/vnd.oasis.opendocument.text"],
    ["pdf", pdfDocument(["The lease ends in March."]), "application/pdf"],
  ])("%s: type from the bytes, text extracted", async (type, bytes, mime) => {
    expect(sniff(bytes)).toBe(type as never)
    const r = await extract(bytes)
    expect(r.status).toBe("ok")
    expect(r.mime).toBe(mime)
    if (r.status !== "ok") return
    expect(r.pages.map((p) => p.text).join("\n")).toContain("The lease ends in March.")
  })

  test("a PDF keeps its page numbers", async () => {
    const r = await extract(pdfDocument(["Page one talks about cats.", "Page two talks about the moon."]))
    expect(r.status).toBe("ok")
    if (r.status !== "ok") return
    expect(r.pages.map((p) => p.page)).toEqual([1, 2])
    expect(r.pages[1].text).toContain("moon")
  })

  test("an ODT's soft page breaks give page numbers", async () => {
    const r = await extract(odtDocument([["first page"], ["second page", "still second"]]))
    if (r.status !== "ok") throw new Error(r.reason)
    expect(r.pages.map((p) => p.page)).toEqual([1, 2])
    expect(r.pages[1].text).toContain("still second")
  })

  test("DOCX paragraphs stay paragraphs", async () => {
    const r = await extract(docxDocument(["alpha", "beta"]))
    if (r.status !== "ok") throw new Error(r.reason)
    expect(r.pages[0].text).toMatch(/alpha\n\n+beta/)
  })

  test("HTML: script, style and head are not text", async () => {
    const r = await extract(htmlDocument("T", ["visible words"]))
    if (r.status !== "ok") throw new Error(r.reason)
    const text = r.pages[0].text
    expect(text).toContain("visible words")
    expect(text).not.toContain("never indexed")
    expect(text).not.toContain("color:red")
  })

  test("the name does not matter: a PDF's bytes are a PDF, random bytes are unsupported", async () => {
    expect(sniff(new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 0, 1, 2, 0, 0, 0]))).toBe("unsupported")
    const r = await extract(new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 0, 1, 2, 0, 0, 0]))
    expect(r).toMatchObject({ status: "skipped", reason: "unsupported_type" })
  })

  test.each([
    ["blank text", new TextEncoder().encode("  \n\n \t\n"), "skipped", "empty_text"],
    ["a PDF without text", pdfDocument([""]), "skipped", "empty_text"],
    ["a truncated PDF", pdfDocument(["hello world"]).subarray(0, 60), "failed", "corrupt_pdf"],
    ["an encrypted PDF", pdfDocument(["secret"], { encrypt: true }), "failed", "encrypted"],
    ["an encrypted ODT", odtDocument([["secret"]], { encrypted: true }), "failed", "encrypted"],
    ["a DOCX cut short", truncated(docxDocument(["x"])), "failed", "corrupt_docx"],
  ])("%s → %s %s", async (_name, bytes, status, reason) => {
    const r = await extract(bytes)
    expect(r.status).toBe(status as never)
    expect((r as { reason: string }).reason).toBe(reason)
  })
})

/** The zip without its central directory, as a broken upload or a bad disk leaves it. */
function truncated(bytes: Uint8Array): Uint8Array {
  return bytes.subarray(0, bytes.length - 60)
}
