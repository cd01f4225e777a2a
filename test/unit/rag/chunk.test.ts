import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Embedder } from "../../../core/inference/embedder.ts"
import { chunkPages, PAGE_SEPARATOR, type CountTokens } from "../../../core/rag/chunk.ts"
import { writeTinyEmbedder } from "../../fixtures/embedder.ts"

let dir: string
let embedder: Embedder
let count: CountTokens

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "cellule-chunk-"))
  await writeTinyEmbedder(join(dir, "model"))
  embedder = await Embedder.load({ modelDir: join(dir, "model"), threads: 1 })
  count = async (texts) => embedder.countTokens(texts)
})

afterAll(async () => {
  await embedder?.dispose()
  await rm(dir, { recursive: true, force: true })
})

const sentence = (i: number) => `The server ${i} answers the question about document ${i * 7} quickly.`
const paragraph = (p: number, n: number) => Array.from({ length: n }, (_, i) => sentence(p * 100 + i)).join(" ")

describe("chunkPages", () => {
  test("every chunk fits the budget counted on the whole chunk by the embedder's tokenizer", async () => {
    const text = Array.from({ length: 12 }, (_, p) => paragraph(p, 9)).join("\n\n")
    const chunks = await chunkPages([{ page: null, text }], { tokens: 128, overlap: 16 }, count)
    expect(chunks.length).toBeGreaterThan(5)
    const whole = embedder.countTokens(chunks.map((c) => c.text))
    for (const [i, c] of chunks.entries()) {
      expect(whole[i]).toBeLessThanOrEqual(128)
      expect(c.tokens).toBe(whole[i])
      expect(c.index).toBe(i)
      expect(text.slice(c.charStart, c.charEnd)).toBe(c.text)
    }
  })

  test("nothing is lost: every word of the text is in some chunk", async () => {
    const text = Array.from({ length: 6 }, (_, p) => paragraph(p, 15)).join("\n\n")
    const chunks = await chunkPages([{ page: null, text }], { tokens: 96, overlap: 16 }, count)
    const covered = new Uint8Array(text.length)
    for (const c of chunks) covered.fill(1, c.charStart, c.charEnd)
    for (const m of text.matchAll(/\S+/g)) expect(covered[m.index]).toBe(1)
  })

  test("paragraph ends are preferred: short paragraphs are never cut in the middle", async () => {
    const paras = Array.from({ length: 10 }, (_, p) => paragraph(p, 2))
    const text = paras.join("\n\n")
    const chunks = await chunkPages([{ page: null, text }], { tokens: 128, overlap: 16 }, count)
    for (const c of chunks) {
      expect(text[c.charStart - 1] === undefined || text.slice(c.charStart - 2, c.charStart) === "\n\n").toBe(true)
      expect(c.charEnd === text.length || text.slice(c.charEnd, c.charEnd + 2) === "\n\n").toBe(true)
    }
  })

  test("inside a long paragraph, consecutive chunks overlap by about the overlap", async () => {
    const text = paragraph(1, 40)
    const chunks = await chunkPages([{ page: null, text }], { tokens: 128, overlap: 32 }, count)
    expect(chunks.length).toBeGreaterThan(2)
    for (let i = 1; i < chunks.length; i++) {
      const shared = text.slice(chunks[i].charStart, chunks[i - 1].charEnd)
      expect(chunks[i].charStart).toBeLessThan(chunks[i - 1].charEnd)
      const n = embedder.countTokens([shared])[0] - embedder.countTokens([""])[0]
      expect(n).toBeGreaterThan(0)
      expect(n).toBeLessThanOrEqual(32)
    }
  })

  test("chunks keep their page, and offsets run across pages", async () => {
    const pages = [
      { page: 1, text: "The cat sleeps." },
      { page: 2, text: "The moon is large." },
    ]
    const chunks = await chunkPages(pages, { tokens: 512, overlap: 64 }, count)
    expect(chunks.map((c) => [c.page, c.text])).toEqual([
      [1, "The cat sleeps."],
      [2, "The moon is large."],
    ])
    const doc = pages.map((p) => p.text).join(PAGE_SEPARATOR)
    expect(doc.slice(chunks[1].charStart, chunks[1].charEnd)).toBe("The moon is large.")
  })
})
