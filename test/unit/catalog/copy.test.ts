// A satellite's copy of a model file (core/catalog/copy.ts) over real HTTP: a server that cuts the
// first transfer mid-way leaves a hidden part file and no model; the next try asks for the rest with
// Range and the finished file hashes right; a server sending other bytes of the right length is caught
// by the hash, the part file is discarded and nothing is renamed into place.
import { afterAll, beforeAll, expect, test } from "bun:test"
import { createHash } from "node:crypto"
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs"
import { join } from "node:path"
import { copyModelFile, copyPartPath, CopyFailed } from "../../../core/catalog/copy.ts"
import { tempDir } from "../../support/proc.ts"

const SIZE = 3 * 1024 * 1024 + 17
const bytes = new Uint8Array(SIZE).map((_, i) => (i * 31 + (i >> 9)) & 0xff)
const sha = createHash("sha256").update(bytes).digest("hex")
const seen: { range: string | null; auth: string | null }[] = []
let mode: "cut" | "ok" | "corrupt" = "cut"
let server: ReturnType<typeof Bun.serve>

beforeAll(() => {
  server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch(req) {
      const range = req.headers.get("range")
      seen.push({ range, auth: req.headers.get("x-test-auth") })
      const start = range ? Number(/^bytes=(\d+)-$/.exec(range)![1]) : 0
      const body = mode === "corrupt" ? bytes.map((b) => b ^ 1) : bytes
      const rest = body.subarray(start)
      const headers: Record<string, string> = { "content-length": String(rest.length) }
      if (range) headers["content-range"] = `bytes ${start}-${SIZE - 1}/${SIZE}`
      if (mode !== "cut") return new Response(rest, { status: range ? 206 : 200, headers })
      // Half the file, then the connection breaks (the content-length promised more).
      const half = rest.subarray(0, Math.floor(rest.length / 2))
      return new Response(
        new ReadableStream({
          async pull(c) {
            c.enqueue(half)
            await Bun.sleep(20)
            c.close()
          },
        }),
        { status: range ? 206 : 200, headers },
      )
    },
  })
})
afterAll(() => server.stop(true))

test("a copy cut mid-way resumes with Range and is verified before it is kept", async () => {
  const dir = tempDir()
  const dest = join(dir, "m.gguf")
  let n = 0
  const o = {
    url: `http://127.0.0.1:${server.port}/m.gguf`,
    headers: () => ({ "x-test-auth": `signed-${++n}` }),
    dest,
    size: SIZE,
    sha256: sha,
  }
  mode = "cut"
  const err = await copyModelFile(o).catch((e) => e)
  expect(err).toBeInstanceOf(CopyFailed)
  expect(String(err.message)).toContain("interrupted")
  expect(existsSync(dest)).toBe(false)
  const held = statSync(copyPartPath(dest, sha)).size
  expect(held).toBeGreaterThan(0)
  expect(held).toBeLessThan(SIZE)
  // The part file is hidden: a store listing (names not starting with ".") never shows it.
  expect(readdirSync(dir).filter((f) => !f.startsWith("."))).toEqual([])

  mode = "ok"
  const r = await copyModelFile(o)
  expect(r).toEqual({ resumed_from: held, received: SIZE - held })
  expect(seen.at(-1)).toEqual({ range: `bytes=${held}-`, auth: "signed-2" })
  expect(seen[0].range).toBeNull()
  expect(createHash("sha256").update(readFileSync(dest)).digest("hex")).toBe(sha)
  expect(existsSync(copyPartPath(dest, sha))).toBe(false)
})

test("other bytes of the right length fail the hash: discarded, nothing kept", async () => {
  const dir = tempDir()
  const dest = join(dir, "m.gguf")
  mode = "corrupt"
  const err = await copyModelFile({
    url: `http://127.0.0.1:${server.port}/m.gguf`,
    headers: () => ({}),
    dest,
    size: SIZE,
    sha256: sha,
  }).catch((e) => e)
  expect(err).toBeInstanceOf(CopyFailed)
  expect(String(err.message)).toContain("does not hash right")
  expect(readdirSync(dir)).toEqual([])
})
