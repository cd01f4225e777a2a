import { expect, test } from "bun:test"
import { createHash } from "node:crypto"
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { sha256File } from "../../../core/crypto/hash.ts"

const root = join(import.meta.dir, "../../..")

test("sha256File streams a file to the same digest as hashing it whole", async () => {
  const dir = mkdtempSync(join(tmpdir(), "cellule-hash-"))
  try {
    // Larger than one stream chunk, so the streaming path is the one exercised.
    const bytes = Buffer.alloc(3 * 1024 * 1024 + 17, 7)
    writeFileSync(join(dir, "f.bin"), bytes)
    expect(await sha256File(join(dir, "f.bin"))).toBe(createHash("sha256").update(bytes).digest("hex"))
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test("core/workers does not depend on core/catalog (hashing lives in core/crypto)", () => {
  const dir = join(root, "core/workers")
  const offenders = readdirSync(dir, { recursive: true })
    .map(String)
    .filter((f) => f.endsWith(".ts"))
    .filter((f) => /from\s+"(\.\.\/)+catalog\//.test(readFileSync(join(dir, f), "utf8")))
  expect(offenders).toEqual([])
})
