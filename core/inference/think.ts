// core/inference/think — removes reasoning blocks (<think>…</think>) from model output, streamed or
// whole. Pure text in, text out: it never looks at tokens and never buffers more than a tag's length.

const OPEN = "<think>"
const CLOSE = "</think>"

export type ThinkStripper = {
  /** Feeds a chunk; returns the visible text that is certain so far. */
  push(chunk: string): string
  /** Ends the stream; returns what was held back (a partial tag that turned out to be text). */
  flush(): string
}

/**
 * Blocks may nest; an unclosed block hides everything after it; a stray </think> is dropped, and
 * whitespace right after a closing tag is dropped too (models put "\n\n" between thought and answer).
 * `insideThink` starts inside a block, for chat templates that end the prompt with "<think>\n".
 */
export function createThinkStripper(opts: { insideThink?: boolean } = {}): ThinkStripper {
  let depth = opts.insideThink ? 1 : 0
  let held = "" // a suffix that may still grow into a tag
  let skipSpace = false

  function run(text: string, final: boolean): string {
    const s = held + text
    held = ""
    let out = ""
    const emit = (t: string) => {
      if (depth > 0) return
      if (skipSpace) {
        t = t.replace(/^\s+/, "")
        if (!t) return
        skipSpace = false
      }
      out += t
    }
    let i = 0
    while (i < s.length) {
      const lt = s.indexOf("<", i)
      if (lt !== i) {
        emit(s.slice(i, lt === -1 ? s.length : lt))
        if (lt === -1) break
        i = lt
      }
      if (s.startsWith(OPEN, i)) {
        depth++
        i += OPEN.length
      } else if (s.startsWith(CLOSE, i)) {
        if (depth > 0) depth--
        skipSpace = depth === 0
        i += CLOSE.length
      } else {
        const rest = s.slice(i)
        if (!final && (OPEN.startsWith(rest) || CLOSE.startsWith(rest))) {
          held = rest
          break
        }
        emit("<")
        i++
      }
    }
    return out
  }

  return { push: (chunk) => run(chunk, false), flush: () => run("", true) }
}

/** One-shot form of {@link createThinkStripper}. */
export function stripThink(text: string, opts: { insideThink?: boolean } = {}): string {
  const stripper = createThinkStripper(opts)
  return stripper.push(text) + stripper.flush()
}
