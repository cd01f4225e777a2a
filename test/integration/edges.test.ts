// Edges of the API a hostile or careless client reaches: JSON nested deeper than any real request,
// max_completion_tokens (the newer name of max_tokens) capped like max_tokens.
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { cleanupAll, startPool, type PoolProc } from "../support/proc.ts"

afterAll(cleanupAll)

describe("API edges", () => {
  let pool: PoolProc
  beforeAll(async () => {
    pool = await startPool()
  })

  const post = (path: string, body: string) =>
    fetch(`${pool.url}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body })

  test.each([[1_000], [10_000], [100_000]])(
    "JSON nested %i deep → 400 json_too_deep, pool still answers",
    async (n) => {
      const body = `{"model":"m","messages":[{"role":"user","content":${"[".repeat(n)}${"]".repeat(n)}}]}`
      const r = await post("/v1/chat/completions", body)
      expect(r.status).toBe(400)
      expect(((await r.json()) as { error: string }).error).toBe("json_too_deep")
      expect((await fetch(`${pool.url}/v1/status`)).status).toBe(200)
    },
  )

  test("a real request's nesting (tools with JSON schemas) is well within the limit", async () => {
    let schema: unknown = { type: "string" }
    for (let i = 0; i < 20; i++) schema = { type: "object", properties: { a: schema } }
    const body = JSON.stringify({
      model: "nothing-serves-this",
      messages: [{ role: "user", content: "hi" }],
      tools: [{ type: "function", function: { name: "f", parameters: schema } }],
    })
    const r = await post("/v1/chat/completions", body)
    expect(((await r.json()) as { error: string }).error).not.toBe("json_too_deep")
  })

  test("max_completion_tokens above the cap → 400 like max_tokens", async () => {
    for (const field of ["max_tokens", "max_completion_tokens"]) {
      const r = await post(
        "/v1/chat/completions",
        JSON.stringify({ model: "m", messages: [{ role: "user", content: "hi" }], [field]: 10_000_000 }),
      )
      expect(r.status, field).toBe(400)
    }
  })
})
