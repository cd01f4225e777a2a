// The pool's HTTP edge, in-process: JSON parsing limits and the {error, message} contract.
import { describe, expect, test } from "bun:test"
import { Elysia, t } from "elysia"
import { buildApp, handle, withHooks } from "../../../core/http/app.ts"
import { poolServices } from "../../../core/pool/services.ts"
import { loadConfig } from "../../../core/config/index.ts"
import { ManualClock } from "../../../core/clock.ts"

const ctx = poolServices({
  config: loadConfig("pool", {}, { CELLULE_MAX_JSON_BODY: String(1024 * 1024) }),
  db: { sql: null as never, mode: "embedded", url: "", ping: async () => true, close: async () => {} },
  clock: new ManualClock(),
})

const echo = () =>
  new Elysia()
    .post("/test/echo", ({ body }) => ({ got: body }), { body: t.Object({ name: t.String({ minLength: 1 }) }) })
    .get("/test/boom", () => {
      throw new Error("secret internals at /src/x.ts:12")
    })

const app = buildApp(ctx, withHooks(echo))
const post = (body: BodyInit, type = "application/json") =>
  handle(app, new Request("http://localhost/test/echo", { method: "POST", headers: { "content-type": type }, body }))

describe("JSON routes", () => {
  test("valid JSON reaches the handler", async () => {
    const r = await post(JSON.stringify({ name: "a" }))
    expect(r.status).toBe(200)
    expect(await r.json()).toEqual({ got: { name: "a" } })
  })

  test("a body with a declared length is read whole in one go and reaches the handler", async () => {
    const body = JSON.stringify({ name: "declared" })
    const r = await handle(
      app,
      new Request("http://localhost/test/echo", {
        method: "POST",
        headers: { "content-type": "application/json", "content-length": String(body.length) },
        body,
      }),
    )
    expect(r.status).toBe(200)
    expect(await r.json()).toEqual({ got: { name: "declared" } })
  })

  test.each([
    ["malformed JSON", () => post("{bad"), 400, "invalid_json"],
    ["empty body", () => post(""), 400, "invalid_json"],
    ["schema violation", () => post(JSON.stringify({ name: 3 })), 400, "validation_failed"],
    ["wrong content type", () => post("name=a", "application/x-www-form-urlencoded"), 415, "unsupported_media_type"],
    ["10 MB body", () => post(JSON.stringify({ name: "x".repeat(10 * 1024 * 1024) })), 413, "payload_too_large"],
    [
      "10 MB chunked body without Content-Length",
      () =>
        post(
          new ReadableStream({
            start(c) {
              for (let i = 0; i < 10; i++) c.enqueue(new Uint8Array(1024 * 1024).fill(32))
              c.close()
            },
          }),
        ),
      413,
      "payload_too_large",
    ],
  ])("%s → %d %s", async (_name, send, status, code) => {
    const r = await send()
    expect(r.status).toBe(status)
    expect(r.headers.get("content-type")).toContain("application/json")
    const body = (await r.json()) as { error: string; message: string }
    expect(body.error).toBe(code)
    expect(typeof body.message).toBe("string")
  })
})

describe("errors and headers", () => {
  test("unknown route → 404 not_found JSON", async () => {
    const r = await handle(app, new Request("http://localhost/nope"))
    expect(r.status).toBe(404)
    expect(((await r.json()) as { error: string }).error).toBe("not_found")
  })

  test("an unexpected exception → 500 internal_error without internals", async () => {
    const r = await handle(app, new Request("http://localhost/test/boom"))
    expect(r.status).toBe(500)
    const text = await r.text()
    expect(JSON.parse(text).error).toBe("internal_error")
    expect(text).not.toContain("secret internals")
    expect(text).not.toContain(".ts:")
  })

  test("security headers on success and on errors", async () => {
    for (const path of ["/v1/status", "/nope"]) {
      const r = await handle(app, new Request(`http://localhost${path}`))
      expect(r.headers.get("x-content-type-options")).toBe("nosniff")
      expect(r.headers.get("x-frame-options")).toBe("DENY")
      expect(r.headers.get("content-security-policy")).toContain("default-src 'self'")
    }
  })
})
