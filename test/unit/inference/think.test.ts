import { describe, expect, test } from "bun:test"
import { createThinkStripper, stripThink } from "../../../core/inference/think.ts"

const CASES: [name: string, input: string, expected: string][] = [
  ["no tags", "hello world", "hello world"],
  ["empty", "", ""],
  ["one block before the answer", "<think>plan it</think>\n\nThe answer", "The answer"],
  ["block in the middle", "A <think>x</think> B", "A B"],
  ["two blocks", "<think>a</think>one <think>b</think>two", "one two"],
  ["nested blocks", "<think>a<think>b</think>c</think>done", "done"],
  ["unclosed block hides the rest", "visible<think>never closed", "visible"],
  ["stray closing tag is dropped", "leak </think>\n\nanswer", "leak answer"],
  ["lookalike tags stay", "<thinking> and </thin> and <b>", "<thinking> and </thin> and <b>"],
  ["a lone < at the end stays", "1 < 2 <", "1 < 2 <"],
  ["a tag prefix at the end stays", "text <thi", "text <thi"],
  ["a closing-tag prefix at the end stays", "text </thin", "text </thin"],
  ["prefix inside an unclosed block is hidden", "ok<think>x </thin", "ok"],
  ["empty block", "<think></think>x", "x"],
  ["whitespace only after a block", "<think>a</think>\n \n", ""],
  ["unicode around tags", "é<think>ü</think>😀", "é😀"],
]

describe("stripThink", () => {
  test.each(CASES)("%s", (_name, input, expected) => {
    expect(stripThink(input)).toBe(expected)
  })

  test("insideThink starts in a block the prompt opened", () => {
    expect(stripThink("reasoning here</think>\n\nanswer", { insideThink: true })).toBe("answer")
    expect(stripThink("never closed", { insideThink: true })).toBe("")
  })
})

describe("createThinkStripper", () => {
  test.each(CASES)("%s, split in two at every position", (_name, input, expected) => {
    for (let i = 0; i <= input.length; i++) {
      const s = createThinkStripper()
      expect(s.push(input.slice(0, i)) + s.push(input.slice(i)) + s.flush()).toBe(expected)
    }
  })

  test.each(CASES)("%s, one character at a time", (_name, input, expected) => {
    const s = createThinkStripper()
    let out = ""
    for (const ch of input) out += s.push(ch)
    expect(out + s.flush()).toBe(expected)
  })

  test("text is released as soon as it cannot start a tag", () => {
    const s = createThinkStripper()
    expect(s.push("Hello <")).toBe("Hello ")
    expect(s.push("b>")).toBe("<b>")
    expect(s.push("<think>secret")).toBe("")
    expect(s.push("</thi")).toBe("")
    expect(s.push("nk> ok")).toBe("ok")
    expect(s.flush()).toBe("")
  })
})
