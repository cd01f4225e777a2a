// withSystemPrompt (core/gateway/guidance.ts): SYSTEM_PROMPT goes first only when the client sent no
// system message; a grounded chat's own system message keeps its passages after it.
import { expect, test } from "bun:test"
import { withSystemPrompt } from "../../../core/gateway/guidance.ts"

const rules = { systemPrompt: "Answer directly.", thinkStrip: true, preambleFilter: true }
const user = { role: "user" as const, content: "hello" }

test("prepended when the request has no system message", () => {
  expect(withSystemPrompt([user], rules)).toEqual([{ role: "system", content: "Answer directly." }, user])
})

test("the client's own system message wins", () => {
  const own = [{ role: "system" as const, content: "be brief" }, user]
  expect(withSystemPrompt(own, rules)).toBe(own)
})

test("unset: nothing added", () => {
  expect(withSystemPrompt([user], { ...rules, systemPrompt: "" })).toEqual([user])
})

test("a grounded chat (system message added by the pool, none from the client) gets one merged system message", () => {
  const grounded = [{ role: "system" as const, content: "Passages: …" }, user]
  expect(withSystemPrompt(grounded, rules, false)).toEqual([
    { role: "system", content: "Answer directly.\n\nPassages: …" },
    user,
  ])
  expect(withSystemPrompt(grounded, rules, true)).toBe(grounded)
})
