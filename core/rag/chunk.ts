// core/rag/chunk — splits extracted pages into chunks of at most N tokens of the embedder's own
// tokenizer, with an overlap, cutting at paragraph ends when one is near, else at sentence ends.
// Pure apart from the token counter it is given (in the pool: a worker's tokenizer, see embed.ts).
import type { Page } from "./extract.ts"

export interface Chunk {
  index: number
  text: string
  /** Offsets in the document text: the pages' texts joined by PAGE_SEPARATOR. */
  charStart: number
  charEnd: number
  page: number | null
  tokens: number
}

/** Tokens per text, special tokens included (so [""] gives the number of special tokens). */
export type CountTokens = (texts: string[]) => Promise<number[]>

export const PAGE_SEPARATOR = "\n\n"

export interface ChunkOptions {
  /** Chunk size in tokens, special tokens included (the model's input length). */
  tokens: number
  overlap: number
}

interface Word {
  start: number
  end: number
  tokens: number
  /** A blank line before this word: a paragraph starts here. */
  paragraph: boolean
  /** This word ends a sentence. */
  sentenceEnd: boolean
}

// Counting distinct words rather than each chunk keeps the worker round trips few: a WordPiece or
// BPE tokenizer splits on whitespace first, so a chunk's tokens are the sum of its words' tokens.
const COUNT_BATCH = 2048

export async function chunkPages(pages: Page[], opts: ChunkOptions, count: CountTokens): Promise<Chunk[]> {
  if (opts.overlap >= opts.tokens / 2) throw new RangeError("chunk overlap must be under half the chunk size")
  const perPage = pages.map((p) => wordsOf(p.text))
  const distinct = [...new Set(perPage.flatMap((ws, i) => ws.map((w) => pages[i].text.slice(w.start, w.end))))]
  const counts = new Map<string, number>()
  const [special] = await count([""])
  for (let i = 0; i < distinct.length; i += COUNT_BATCH) {
    const batch = distinct.slice(i, i + COUNT_BATCH)
    const n = await count(batch)
    for (const [j, w] of batch.entries()) counts.set(w, Math.max(1, n[j] - special))
  }
  const budget = Math.max(1, opts.tokens - special)
  const chunks: Chunk[] = []
  let offset = 0
  pages.forEach((page, p) => {
    const words = perPage[p]
    for (const w of words) w.tokens = counts.get(page.text.slice(w.start, w.end)) ?? 1
    for (const [s, e] of windows(words, budget, opts.overlap)) {
      chunks.push({
        index: chunks.length,
        text: page.text.slice(words[s].start, words[e - 1].end),
        charStart: offset + words[s].start,
        charEnd: offset + words[e - 1].end,
        page: page.page,
        tokens: special + sum(words, s, e),
      })
    }
    offset += page.text.length + PAGE_SEPARATOR.length
  })
  return chunks
}

function wordsOf(text: string): Word[] {
  const out: Word[] = []
  let prevEnd = 0
  for (const m of text.matchAll(/\S+/g)) {
    const start = m.index
    const gap = text.slice(prevEnd, start)
    out.push({
      start,
      end: start + m[0].length,
      tokens: 1,
      paragraph: out.length > 0 && /\n\s*\n/.test(gap),
      sentenceEnd: /[.!?;:»")\]]$/.test(m[0]),
    })
    prevEnd = start + m[0].length
  }
  return out
}

const sum = (words: Word[], s: number, e: number) => {
  let n = 0
  for (let i = s; i < e; i++) n += words[i].tokens
  return n
}

/** [start, end) word ranges: each within the budget, consecutive ones sharing about `overlap` tokens. */
function* windows(words: Word[], budget: number, overlap: number): Generator<[number, number]> {
  let s = 0
  while (s < words.length) {
    let e = s
    let used = 0
    while (e < words.length && used + words[e].tokens <= budget) used += words[e++].tokens
    if (e === s) e = s + 1 // one word longer than a chunk: alone (the embedder truncates it)
    if (e < words.length) e = betterEnd(words, s, e)
    yield [s, e]
    if (e >= words.length) return
    // Step back over the last `overlap` tokens of the same paragraph (a clean paragraph cut needs no
    // overlap), and always move forward.
    let next = e
    let back = 0
    while (next - 1 > s && back + words[next - 1].tokens <= overlap && !words[next].paragraph) {
      back += words[--next].tokens
    }
    s = next
  }
}

/** Prefer ending before a paragraph, else after a sentence, in the last half of the window. */
function betterEnd(words: Word[], s: number, e: number): number {
  const floor = s + Math.ceil((e - s) / 2)
  for (let i = e; i > floor; i--) if (words[i].paragraph) return i
  for (let i = e; i > floor; i--) if (words[i - 1].sentenceEnd) return i
  return e
}
