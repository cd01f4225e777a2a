// The model store serves the files in its folder, and only those: a symlink that leads out of the
// store (to /etc/passwd, to the pool's database) is not a model, whoever put it there.
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { listStore, storedModel } from "../../../core/catalog/store.ts"
import type { Database } from "../../../core/db/client.ts"
import { testDatabase } from "../../support/db.ts"
import { cleanupAll, tempDir } from "../../support/proc.ts"

afterAll(cleanupAll)

describe("model store", () => {
  let db: Database
  let store: string
  beforeAll(async () => {
    db = await testDatabase()
    const root = tempDir()
    store = join(root, "store")
    mkdirSync(join(store, "sub"), { recursive: true })
    writeFileSync(join(store, "real.gguf"), "GGUF-real")
    writeFileSync(join(root, "outside.gguf"), "GGUF-outside")
    symlinkSync(join(root, "outside.gguf"), join(store, "escape.gguf"))
    symlinkSync("/etc/passwd", join(store, "passwd.gguf"))
    symlinkSync(join(store, "real.gguf"), join(store, "alias.gguf"))
  })

  test("a regular file is served", async () => {
    expect((await storedModel(db.sql, store, "real.gguf")).size).toBe(9)
  })

  test.each([["escape.gguf"], ["passwd.gguf"]])("a symlink leading out of the store (%s) → 404", async (name) => {
    await expect(storedModel(db.sql, store, name)).rejects.toMatchObject({ code: "model_file_not_found" })
  })

  test("a symlink to another file inside the store is served", async () => {
    expect((await storedModel(db.sql, store, "alias.gguf")).size).toBe(9)
  })

  test("the listing leaves the escaping links out", async () => {
    const names = (await listStore(db.sql, store)).map((m) => m.file_name)
    expect(names).toContain("real.gguf")
    expect(names).not.toContain("escape.gguf")
    expect(names).not.toContain("passwd.gguf")
  })
})
