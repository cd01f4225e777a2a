import { describe, expect, test } from "bun:test"
import { mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { autoCacheMb, cacheMbFor, filesBytes, MAX_AUTO_CACHE_MB, MIN_CACHE_MB } from "../../../core/db/cache-size.ts"
import { loadConfig } from "../../../core/config/index.ts"
import { openDatabase } from "../../../core/db/client.ts"
import { ConfigError } from "../../../core/errors.ts"
import { tempDir } from "../../support/proc.ts"

const MB = 1024 * 1024
const GB = 1024 * MB

describe("embedded database cache size", () => {
  test("a pool without documents keeps the 16 MB floor (idle memory)", () => {
    expect(autoCacheMb(0, 16 * GB)).toBe(MIN_CACHE_MB)
    expect(autoCacheMb(20 * MB, 16 * GB)).toBe(MIN_CACHE_MB)
  })

  test("a pool holding documents gets half its data, so the search index fits", () => {
    // 100 000 chunks: ~560 MB of relations, of which the HNSW graph is ~200 MB
    expect(autoCacheMb(560 * MB, 16 * GB)).toBe(280)
  })

  test("bounded by 1 GB and by an eighth of the machine's memory", () => {
    expect(autoCacheMb(10 * GB, 64 * GB)).toBe(MAX_AUTO_CACHE_MB)
    expect(autoCacheMb(10 * GB, 2 * GB)).toBe(256)
    expect(autoCacheMb(10 * GB, 64 * MB)).toBe(MIN_CACHE_MB)
  })

  test("auto reads the size of pgdata/base from disk; a number is taken as given", () => {
    const pgdata = tempDir("cellule-cache-")
    expect(filesBytes(join(pgdata, "base"))).toBe(0) // first boot: nothing there yet
    mkdirSync(join(pgdata, "base", "5"), { recursive: true })
    writeFileSync(join(pgdata, "base", "5", "16384"), Buffer.alloc(3 * MB))
    writeFileSync(join(pgdata, "base", "5", "16385"), Buffer.alloc(1 * MB))
    writeFileSync(join(pgdata, "postgresql.conf"), Buffer.alloc(64 * MB)) // outside base: not counted
    expect(filesBytes(join(pgdata, "base"))).toBe(4 * MB)
    expect(cacheMbFor(pgdata, "auto")).toBe(MIN_CACHE_MB)
    expect(cacheMbFor(pgdata, 300)).toBe(300)
  })

  test("CELLULE_DB_CACHE_MB: auto by default, a number of MB, anything else refused naming the variable", () => {
    expect(loadConfig("pool", {}, {}).dbCacheMb).toBe("auto")
    expect(loadConfig("pool", {}, { CELLULE_DB_CACHE_MB: "512" }).dbCacheMb).toBe(512)
    expect(loadConfig("pool", { "db-cache-mb": "auto" }, {}).dbCacheMb).toBe("auto")
    for (const bad of ["lots", "8", "99999", "1.5"]) {
      expect(() => loadConfig("pool", {}, { CELLULE_DB_CACHE_MB: bad })).toThrow(ConfigError)
      expect(() => loadConfig("pool", {}, { CELLULE_DB_CACHE_MB: bad })).toThrow(/CELLULE_DB_CACHE_MB/)
    }
  })

  test("the embedded database starts with the cache it was given", async () => {
    const db = await openDatabase({ dataDir: tempDir("cellule-cache-db-"), cacheMb: 48 })
    try {
      const [{ shared_buffers }] = await db.sql<{ shared_buffers: string }[]>`show shared_buffers`
      expect(shared_buffers).toBe("48MB")
    } finally {
      await db.close()
    }
  }, 60_000)
})
