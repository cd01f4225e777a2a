// core/inference/preamble — the defensive filter of admin guide §4.9.2: a thinking model that writes its
// analysis inline as a numbered list ("1. **Analyze the Request:** …", "2. **Draft Response:** …")
// before the answer. Pure text in, text out, streamed or whole; composed with the <think> stripper into
// the answer filter the chat route applies (createAnswerFilter).
import { createThinkStripper } from "./think.ts"

export type TextFilter = {
  /** Feeds a chunk; returns the visible text that is certain so far. */
  push(chunk: string): string
  /** Ends the stream; returns what was held back. */
  flush(): string
}

/**
 * Verbs and nouns that open an analytical step (English and French, as models write them). The first
 * numbered item must start with one of them and carry a colon on its line to count as a preamble.
 */
const STEP =
  /^\s*1[.)]\s+(?:\*\*|__)?\s*(?:analy[sz]|understand|identify|deconstruct|determin|consider|review|evaluat|assess|plan|draft|brainstorm|formulat|refin|check|think|reason|interpret|clarif|break|outline|comprendre|identifi|r[ée]dig|planifi|v[ée]rifi|[ée]valu)[^\n]*:/i
/** A line that still belongs to the preamble: a numbered item, a bullet, an indented continuation. */
const ITEM = /^(?:\s*\d+[.)]\s|\s*[-*•]\s|\s+\S)/
/** How much of the first line is enough to decide (a step heading is short). */
const DECIDE_AT = 160

/**
 * Drops a leading numbered analytical preamble. The answer is what follows the first blank line after
 * which a line is neither a numbered item, a bullet nor indented. Never loses an answer: text that does
 * not open with such a step passes at once, and a preamble no answer follows is released unchanged.
 */
export function createPreambleFilter(): TextFilter {
  let state: "start" | "preamble" | "pass" = "start"
  let held = "" // everything since the start while undecided or inside the preamble
  let scanned = 0 // preamble lines before this offset are already looked at
  let blank = false // the last complete preamble line was blank

  function pass(): string {
    state = "pass"
    const out = held
    held = ""
    return out
  }

  function decide(final: boolean): string {
    const lead = held.trimStart()
    if (!lead) return final ? pass() : ""
    if (lead[0] !== "1" || (lead.length > 1 && lead[1] !== "." && lead[1] !== ")")) return pass()
    const nl = held.indexOf("\n", held.length - lead.length)
    if (nl === -1 && lead.length < DECIDE_AT && !final) return ""
    if (!STEP.test(nl === -1 ? held : held.slice(0, nl))) return pass()
    state = "preamble"
    return lines(final)
  }

  /** Looks at the preamble's complete lines; returns the answer once it starts. */
  function lines(final: boolean): string {
    for (;;) {
      const nl = held.indexOf("\n", scanned)
      if (nl === -1) break
      const line = held.slice(scanned, nl)
      if (line.trim() === "") blank = true
      else if (blank && !ITEM.test(line)) return answerFrom(scanned)
      else blank = false
      scanned = nl + 1
    }
    const last = held.slice(scanned)
    // a partial line that can no longer become an item, after a blank line: the answer has started
    if (blank && /^[^\s\d*•-]/.test(last)) return answerFrom(scanned)
    if (!final) return ""
    // the last, unterminated line may be the answer
    if (last.trim() && blank && !ITEM.test(last)) return answerFrom(scanned)
    // no answer followed: release the preamble rather than answer nothing
    return pass()
  }

  function answerFrom(offset: number): string {
    state = "pass"
    const out = held.slice(offset)
    held = ""
    return out
  }

  function run(chunk: string, final: boolean): string {
    if (state === "pass") return chunk
    held += chunk
    return state === "start" ? decide(final) : lines(final)
  }

  return { push: (chunk) => run(chunk, false), flush: () => run("", true) }
}

/** One-shot form of {@link createPreambleFilter}. */
export function stripPreamble(text: string): string {
  const f = createPreambleFilter()
  return f.push(text) + f.flush()
}

/** The answer filter of a chat completion: <think> blocks, then the numbered preamble, each when on. */
export function createAnswerFilter(opts: { think: boolean; preamble: boolean }): TextFilter {
  const think = opts.think ? createThinkStripper() : undefined
  const pre = opts.preamble ? createPreambleFilter() : undefined
  const after = (t: string) => (pre ? pre.push(t) : t)
  return {
    push: (chunk) => after(think ? think.push(chunk) : chunk),
    flush: () => {
      const rest = after(think ? think.flush() : "")
      return rest + (pre ? pre.flush() : "")
    },
  }
}
