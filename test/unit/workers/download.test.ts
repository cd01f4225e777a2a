// Model delivery through the pool's real /v1/models/files route over a real listener: resume after a
// cut connection (Range), a corrupted file rejected (SHA-256) and never renamed into place, the
// cache size limit with least-recently-used eviction.
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { existsSync, mkdirSync, readdirSync, utimesSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { randomBytes, createHash } from "node:crypto"
import { testDatabase } from "../../support/db.ts"
import { cleanupAll, onCleanup, tempDir } from "../../support/proc.ts"
import { buildApp, handle, withHooks } from "../../../core/http/app.ts"
import { loadConfig } from "../../../core/config/index.ts"
import { ManualClock } from "../../../core/clock.ts"
import { modelFileRoutes } from "../../../core/http/routes/model-files.ts"
import { parseRange } from "../../../core/http/file-response.ts"
import { downloadModel, ensureCacheSpace } from "../../../core/workers/download.ts"
import { poolServices } from "../../../core/pool/services.ts"

const TOKEN = "shared-join-token-for-tests"
let base: string
let store: string
const content = randomBytes(3 * 1024 * 1024 + 17)
const sha = createHash("sha256").update(content).digest("hex")
/** Per-request behaviour: cut the body after N bytes, or corrupt one byte. */
let plan: ("cut" | "corrupt" | "ok")[] = []
const seen: { range: string | null; status: number }[] = []

afterAll(cleanupAll)
beforeAll(async () => {
  const db = await testDatabase()
  store = tempDir("cellule-store-")
  writeFileSync(join(store, "m.gguf"), content)
  const clock = new ManualClock()
  const ctx = poolServices({
    config: loadConfig("pool", {}, { CELLULE_WORKER_TOKEN: TOKEN, CELLULE_MODEL_STORE: store }),
    db,
    clock,
  })
  const app = buildApp(ctx, withHooks(modelFileRoutes))
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(req) {
      const res = await handle(app, req)
      seen.push({ range: req.headers.get("range"), status: res.status })
      const what = plan.shift() ?? "ok"
      if (what === "ok" || !res.body) return res
      const reader = res.body.getReader()
      let sent = 0
      const body = new ReadableStream<Uint8Array>({
        async pull(c) {
          const { done, value } = await reader.read()
          if (done) return c.close()
          if (what === "corrupt") {
            const copy = new Uint8Array(value)
            if (sent === 0) copy[0] ^= 0xff
            sent += copy.length
            return c.enqueue(copy)
          }
          // "cut": the body stops after a third of the file (the client sees a short read).
          const room = Math.floor(content.length / 3) - sent
          if (room <= 0) {
            await reader.cancel()
            return c.close()
          }
          const part = value.subarray(0, room)
          sent += part.length
          c.enqueue(part)
        },
      })
      const headers = new Headers(res.headers)
      if (what === "cut") headers.delete("content-length")
      return new Response(body, { status: res.status, headers })
    },
  })
  onCleanup(() => server.stop(true))
  base = `http://127.0.0.1:${server.port}`
}, 60_000)

const dl = (cacheDir: string, limitBytes = 64 * 2 ** 20, sha256 = sha) =>
  downloadModel({
    url: `${base}/v1/models/files/m.gguf`,
    token: TOKEN,
    fileName: "m.gguf",
    size: content.length,
    sha256,
    cacheDir,
    limitBytes,
  })

describe("model delivery", () => {
  test("a cut connection resumes with Range from where it stopped and the file verifies", async () => {
    const cache = tempDir("cellule-cache-")
    plan = ["cut"]
    seen.length = 0
    const path = await dl(cache)
    expect(Bun.file(path).size).toBe(content.length)
    expect(seen.length).toBe(2)
    expect(seen[0]).toEqual({ range: null, status: 200 })
    expect(seen[1].status).toBe(206)
    const resumedAt = Number(/bytes=(\d+)-/.exec(seen[1].range!)![1])
    expect(resumedAt).toBeGreaterThan(0)
    expect(resumedAt).toBeLessThan(content.length)
    expect(readdirSync(cache).sort()).toEqual(["m.gguf", "m.gguf.sha256"])
    // Cached: the second call does not touch the network.
    seen.length = 0
    expect(await dl(cache)).toBe(path)
    expect(seen.length).toBe(0)
  })

  test("a corrupted transfer is rejected, deleted, and never appears under the model's name", async () => {
    const cache = tempDir("cellule-cache-")
    plan = ["corrupt"]
    await expect(dl(cache)).rejects.toMatchObject({ code: "model_corrupt" })
    expect(readdirSync(cache)).toEqual([])
    // A wrong expected hash (a tampered store) is refused the same way.
    plan = []
    await expect(dl(cache, 64 * 2 ** 20, "0".repeat(64))).rejects.toMatchObject({ code: "model_corrupt" })
    expect(existsSync(join(cache, "m.gguf"))).toBe(false)
  })

  test("the cache keeps under its limit by evicting the least recently used models", async () => {
    const cache = tempDir("cellule-cache-")
    mkdirSync(cache, { recursive: true })
    const mb = 2 ** 20
    for (const [name, age] of [
      ["old.gguf", 300],
      ["recent.gguf", 100],
    ] as const) {
      writeFileSync(join(cache, name), Buffer.alloc(2 * mb))
      writeFileSync(join(cache, `${name}.sha256`), "x")
      const t = new Date(Date.now() - age * 1000)
      utimesSync(join(cache, name), t, t)
    }
    plan = []
    await dl(cache, 6 * mb)
    expect(readdirSync(cache).sort()).toEqual(["m.gguf", "m.gguf.sha256", "recent.gguf", "recent.gguf.sha256"])
    expect(() => ensureCacheSpace(cache, 7 * mb, 6 * mb)).toThrow(
      expect.objectContaining({ code: "model_cache_too_small" }),
    )
  })

  test("the route needs a worker token and answers 416 outside the file", async () => {
    expect((await fetch(`${base}/v1/models/files/m.gguf`)).status).toBe(401)
    const r = await fetch(`${base}/v1/models/files/m.gguf`, {
      headers: { authorization: `Bearer ${TOKEN}`, range: `bytes=${content.length}-` },
    })
    expect(r.status).toBe(416)
    expect(
      (await fetch(`${base}/v1/models/files/..%2Fetc.gguf`, { headers: { authorization: `Bearer ${TOKEN}` } })).status,
    ).toBeGreaterThanOrEqual(400)
  })

  test.each([
    ["bytes=0-9", { start: 0, end: 9 }],
    ["bytes=10-", { start: 10, end: 99 }],
    ["bytes=-5", { start: 95, end: 99 }],
    ["bytes=50-500", { start: 50, end: 99 }],
    [null, null],
  ])("Range %p on 100 bytes", (h, want) => {
    expect(parseRange(h, 100)).toEqual(want)
  })
})
