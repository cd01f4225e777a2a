import { afterAll, expect, test } from "bun:test"
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { pack, unpack } from "../../core/pack.ts"

const root = mkdtempSync(join(tmpdir(), "cellule-pack-"))
afterAll(() => rmSync(root, { recursive: true, force: true }))

const files = [
  { name: "lib.so", mode: 0o755, bytes: new Uint8Array(100_000).map((_, i) => i % 251) },
  { name: "data.json", mode: 0o644, bytes: new TextEncoder().encode('{"a":1}') },
  { name: "empty", mode: 0o644, bytes: new Uint8Array(0) },
]

function packFile(name: string, bytes = pack(files, 3)): string {
  const p = join(root, name)
  writeFileSync(p, bytes)
  return p
}

test("unpacks every file with its bytes and mode into a folder named by content, once", async () => {
  const p = packFile("a.pack")
  const cache = join(root, "cache-a")
  const dir = await unpack(p, cache, "thing")
  expect(dir).toMatch(/thing-[0-9a-f]{16}$/)
  for (const f of files) {
    expect(await Bun.file(join(dir, f.name)).bytes()).toEqual(f.bytes)
    expect(statSync(join(dir, f.name)).mode & 0o777).toBe(f.mode)
  }
  const before = statSync(join(dir, "lib.so")).mtimeMs
  expect(await unpack(p, cache, "thing")).toBe(dir) // already complete: nothing rewritten
  expect(statSync(join(dir, "lib.so")).mtimeMs).toBe(before)
  // other contents, other folder: an upgraded binary never reuses a stale unpack
  const other = await unpack(packFile("b.pack", pack(files.slice(1), 3)), cache, "thing")
  expect(other).not.toBe(dir)
})

test("concurrent unpackers agree on one complete folder and leave no staging behind", async () => {
  const p = packFile("c.pack")
  const cache = join(root, "cache-c")
  const dirs = await Promise.all([1, 2, 3, 4].map(() => unpack(p, cache, "race")))
  expect(new Set(dirs).size).toBe(1)
  expect(readdirSync(cache)).toEqual([dirs[0]!.split("/").at(-1)!])
  expect(await Bun.file(join(dirs[0]!, "lib.so")).bytes()).toEqual(files[0]!.bytes)
})

test("a truncated or foreign pack fails and publishes nothing", async () => {
  const whole = pack(files, 3)
  const cache = join(root, "cache-t")
  await expect(unpack(packFile("t.pack", whole.subarray(0, whole.length - 20)), cache, "t")).rejects.toThrow()
  await expect(unpack(packFile("f.pack", new TextEncoder().encode("not a pack at all")), cache, "t")).rejects.toThrow(
    /not a cellule pack/,
  )
  expect(readdirSync(cache, { withFileTypes: true }).filter((e) => e.isDirectory())).toEqual([])
})
