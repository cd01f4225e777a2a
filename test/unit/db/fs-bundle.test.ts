// PGlite's file-system bundle is mapped from its file, not read (issue 21: the idle pool's RSS): the
// bytes are the file's, only the pages Postgres reads become resident, and a write into the buffer
// (MEMFS owns its slices) never reaches the file.
import { expect, test } from "bun:test"
import { readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { fsBundleOf } from "../../../core/db/embedded.ts"
import { tempDir } from "../../support/proc.ts"

test("the bundle is the file's bytes, mapped privately: a write into it leaves the file as it was", async () => {
  const file = join(tempDir("cellule-bundle-"), "pglite.data")
  const bytes = new Uint8Array(3 * 4096 + 17).map((_, i) => (i * 7) & 0xff)
  writeFileSync(file, bytes)

  const buffer = await fsBundleOf(file).arrayBuffer()
  expect(buffer).toBeInstanceOf(ArrayBuffer) // PGlite checks the constructor's name
  expect(new Uint8Array(buffer)).toEqual(bytes)
  if (process.platform === "linux") {
    // mapped, not read into memory: the file is one of this process's mappings
    expect(readFileSync("/proc/self/maps", "utf8")).toContain(file)
  }

  new Uint8Array(buffer).fill(0xee, 0, 4096 + 1)
  expect(new Uint8Array(readFileSync(file))).toEqual(bytes)
})

test("a file that cannot be mapped (empty) is read instead", async () => {
  const file = join(tempDir("cellule-bundle-"), "empty.data")
  writeFileSync(file, "")
  expect((await fsBundleOf(file).arrayBuffer()).byteLength).toBe(0)
})
