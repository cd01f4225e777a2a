import { describe, expect, test } from "bun:test"
import { jsonDepth } from "../../../core/http/body.ts"

const enc = (s: string) => new TextEncoder().encode(s)

describe("jsonDepth", () => {
  test.each([
    ["scalar", "1", 0],
    ["flat object", '{"a":1}', 1],
    ["object in array", '[{"a":[1]}]', 3],
    ["brackets inside strings do not count", '{"a":"[[[[{{{{"}', 1],
    ["escaped quote keeps the string open", '{"a":"\\"[[[["}', 1],
    ["escaped backslash closes it", '{"a":"\\\\",  "b":[[1]]}', 3],
  ])("%s", (_n, s, d) => {
    expect(jsonDepth(enc(s))).toBe(d)
  })
})
