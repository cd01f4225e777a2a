import { describe, expect, test } from "bun:test"
import { createAnswerFilter, createPreambleFilter, stripPreamble } from "../../../core/inference/preamble.ts"

const QWEN =
  "1. **Analyze the Request:** The user greets me.\n" +
  "   - Tone: friendly.\n" +
  "2. **Draft Response:** Hello! How can I help?\n" +
  "3. **Final Polish:** keep it short.\n" +
  "\n" +
  "Hello! How can I help you today?"

const CASES: [name: string, input: string, expected: string][] = [
  ["plain answer", "Hello! How can I help?", "Hello! How can I help?"],
  ["empty", "", ""],
  ["numbered analytical preamble", QWEN, "Hello! How can I help you today?"],
  [
    "French steps",
    "1. Analyser la demande : salutation.\n2. Rédiger la réponse : Bonjour.\n\nBonjour ! Que puis-je faire ?",
    "Bonjour ! Que puis-je faire ?",
  ],
  [
    "a numbered answer is kept",
    "1. Preheat the oven.\n2. Mix the flour.\n\nEnjoy!",
    "1. Preheat the oven.\n2. Mix the flour.\n\nEnjoy!",
  ],
  ["a list with colons that is not analysis", "1. Eggs: two\n2. Milk: 1 l", "1. Eggs: two\n2. Milk: 1 l"],
  ["a number that is not a list", "12 apples", "12 apples"],
  ["a lone 1", "1", "1"],
  [
    "a preamble with no answer after it is released",
    "1. **Analyze:** hi\n2. **Draft:** hello",
    "1. **Analyze:** hi\n2. **Draft:** hello",
  ],
  [
    "the answer's own paragraphs stay",
    `${QWEN}\n\nSecond paragraph.`,
    "Hello! How can I help you today?\n\nSecond paragraph.",
  ],
  ["leading blank lines before the preamble", `\n\n${QWEN}`, "Hello! How can I help you today?"],
]

/** Every way of cutting `input` in two, and one character at a time: the output never depends on chunking. */
function chunkings(input: string): string[][] {
  const out: string[][] = [[input], [...input]]
  for (let i = 1; i < input.length; i++) out.push([input.slice(0, i), input.slice(i)])
  return out
}

describe("preamble filter", () => {
  test.each(CASES)("%s", (_name, input, expected) => {
    expect(stripPreamble(input)).toBe(expected)
  })

  test.each(CASES)("%s: the same across streamed chunk boundaries", (_name, input, expected) => {
    for (const chunks of chunkings(input)) {
      const f = createPreambleFilter()
      const out = chunks.map((c) => f.push(c)).join("") + f.flush()
      expect(out).toBe(expected)
    }
  })

  test("a plain answer streams at once, nothing held back", () => {
    const f = createPreambleFilter()
    expect(f.push("Hel")).toBe("Hel")
    expect(f.push("lo")).toBe("lo")
    expect(f.flush()).toBe("")
  })

  test("the preamble is held while it streams, the answer flows once it starts", () => {
    const f = createPreambleFilter()
    expect(f.push("1. **Analyze:** greeting\n2. **Draft:** hi\n")).toBe("")
    expect(f.push("\nHi the")).toBe("Hi the")
    expect(f.push("re")).toBe("re")
    expect(f.flush()).toBe("")
  })
})

describe("answer filter (think strip + preamble)", () => {
  const input = `<think>reasoning</think>\n\n${QWEN}`
  test.each([
    [true, true, "Hello! How can I help you today?"],
    [true, false, QWEN],
    [false, true, input],
    [false, false, input],
  ])("think %p, preamble %p", (think, preamble, expected) => {
    for (const chunks of chunkings(input)) {
      const f = createAnswerFilter({ think, preamble })
      expect(chunks.map((c) => f.push(c)).join("") + f.flush()).toBe(expected)
    }
  })
})
