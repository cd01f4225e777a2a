// The embedded database's first boot: the pristine cluster unpacked instead of initdb, owner-only,
// and what an interrupted first boot leaves behind is recovered by the next one.
import { afterAll, expect, test } from "bun:test"
import { existsSync, lstatSync, mkdirSync, readdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { openDatabase } from "../../../core/db/client.ts"
import { pristineTarball, unpackInto } from "../../../core/db/_pristine.ts"
import { cleanupAll, tempDir } from "../../support/proc.ts"

afterAll(cleanupAll)

/** Every path under `root` whose mode is not 0700 (directories) or 0600 (files). */
function notOwnerOnly(root: string): string[] {
  const wrong: string[] = []
  const walk = (p: string) => {
    const st = lstatSync(p)
    const mode = st.mode & 0o777
    if (st.isDirectory()) {
      if (mode !== 0o700) wrong.push(`${p} ${mode.toString(8)}`)
      for (const n of readdirSync(p)) walk(join(p, n))
    } else if (mode !== 0o600) wrong.push(`${p} ${mode.toString(8)}`)
  }
  walk(root)
  return wrong
}

/** Opens the database (migrations, pgvector) on `dataDir`, checks it answers, closes it. */
async function bootAndCheck(dataDir: string) {
  const db = await openDatabase({ dataDir })
  try {
    const [row] = await db.sql`select extversion from pg_extension where extname = 'vector'`
    expect(row?.extversion).toBeString()
    expect((await db.sql`select '[1,2]'::vector <-> '[1,3]'::vector as d`)[0]?.d).toBe(1)
  } finally {
    await db.close()
  }
}

test("the pristine tarball unpacks to an owner-only cluster, through a staging dir renamed at the end", async () => {
  const tarball = await pristineTarball()
  expect(tarball).toBeDefined()
  const dir = tempDir()
  const dest = join(dir, "pgdata")
  unpackInto(tarball!, dest)
  expect(readdirSync(dir)).toEqual(["pgdata"])
  expect(existsSync(join(dest, "PG_VERSION"))).toBe(true)
  expect(existsSync(join(dest, "postmaster.pid"))).toBe(false) // packed from a cleanly stopped server
  expect(notOwnerOnly(dest)).toEqual([])
})

test("a first boot on an empty data dir migrates (pgvector loaded) and leaves pgdata owner-only", async () => {
  const dataDir = tempDir()
  await bootAndCheck(dataDir)
  expect(notOwnerOnly(join(dataDir, "pgdata"))).toEqual([])
  await bootAndCheck(dataDir) // and the second boot finds it
})

test("a staging dir left by a crash mid-unpack is removed, and the next boot unpacks afresh", async () => {
  const dataDir = tempDir()
  mkdirSync(join(dataDir, "pgdata.new-999999", "base"), { recursive: true, mode: 0o700 })
  writeFileSync(join(dataDir, "pgdata.new-999999", "base", "half"), "x")
  await bootAndCheck(dataDir)
  expect(readdirSync(dataDir).filter((n) => n.startsWith("pgdata"))).toEqual(["pgdata"])
})

test("a pgdata without PG_VERSION (an older version's interrupted initdb) is moved aside, not deleted", async () => {
  const dataDir = tempDir()
  mkdirSync(join(dataDir, "pgdata", "base"), { recursive: true, mode: 0o700 })
  writeFileSync(join(dataDir, "pgdata", "base", "keep-me"), "user data?")
  await bootAndCheck(dataDir)
  const aside = readdirSync(dataDir).filter((n) => n.startsWith("pgdata.incomplete-"))
  expect(aside).toHaveLength(1)
  expect(existsSync(join(dataDir, aside[0]!, "base", "keep-me"))).toBe(true)
})
