// A deletion on the catalogue master reaches a satellite (issue 18, kind model_entry with deleted: true)
// on a real embedded database and a real store folder: the entry leaves the satellite's listing, the
// sync removes its copied file and the file's row, and an older upsert arriving after the tombstone
// (gossip out of order, a slow peer relaying) does not bring the model back, nor a new copy.
import { afterAll, beforeAll, expect, test } from "bun:test"
import { createHash } from "node:crypto"
import { existsSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { listCatalogue } from "../../../core/catalog/catalogue.ts"
import { CatalogueRole } from "../../../core/catalog/master.ts"
import { storedModel } from "../../../core/catalog/store.ts"
import { CatalogueSync } from "../../../core/catalog/sync.ts"
import { ManualClock } from "../../../core/clock.ts"
import type { Database } from "../../../core/db/client.ts"
import { generateIdentity } from "../../../core/federation/identity.ts"
import { catalogueMaster } from "../../../core/federation/kinds/catalogue-master.ts"
import { modelEntry } from "../../../core/federation/kinds/model-catalogue.ts"
import { testDatabase } from "../../support/db.ts"
import { forgedBytes } from "../../support/forged-gguf.ts"
import { cleanupAll, tempDir } from "../../support/proc.ts"

afterAll(cleanupAll)

const MASTER = "atom-master"
const stamp = (n: number) => ({ hlc: `0001767225600000.${String(n).padStart(5, "0")}`, origin: MASTER })
let db: Database
let store: string
let sync: CatalogueSync
const bytes = forgedBytes({ name: "gone" })
const entry = {
  file_name: "gone.gguf",
  size: bytes.length,
  sha256: createHash("sha256").update(bytes).digest("hex"),
  header: { architecture: "llama" },
  uploaded_by: "admin@master",
}

beforeAll(async () => {
  db = await testDatabase()
  store = tempDir("cellule-tombstone-store-")
  // This pool is a satellite of MASTER (its catalogue_master record), holding its copy of gone.gguf.
  await catalogueMaster.apply(
    db.sql,
    catalogueMaster.parse({ pool: MASTER, url: "http://master.invalid", epoch: 1, promoted_by: "boot" }),
    stamp(1),
  )
  const role = new CatalogueRole(db.sql, { id: () => "atom-sat", url: () => "http://sat.invalid" }, false)
  const clock = new ManualClock(Date.UTC(2026, 0, 1))
  sync = new CatalogueSync({
    sql: db.sql,
    storeDir: store,
    role,
    identity: generateIdentity(),
    clock,
    intervalMs: 60_000,
    timeoutMs: 1000,
  })
  expect(await modelEntry.apply(db.sql, modelEntry.parse(entry), stamp(5))).toBe(true)
  writeFileSync(join(store, entry.file_name), bytes)
  await storedModel(db.sql, store, entry.file_name) // recorded in model_files, as a finished copy is
})

const listed = async () => (await listCatalogue(db.sql, store)).map((e) => [e.file_name, e.present])
const fileRow = async () => (await db.sql`select 1 from model_files where file_name = ${entry.file_name}`).length

test("before the deletion the satellite lists its copy; the sync, with the same SHA-256, copies nothing", async () => {
  expect(await listed()).toEqual([["gone.gguf", true]])
  await sync.tick() // the master's URL cannot be reached: a copy attempt would throw
  expect(existsSync(join(store, entry.file_name))).toBe(true)
})

test("the master's tombstone removes the entry from the listing, then the copied file and its row", async () => {
  expect(await modelEntry.apply(db.sql, modelEntry.parse({ ...entry, deleted: true }), stamp(7))).toBe(true)
  expect(await listed()).toEqual([])
  await sync.tick()
  expect(existsSync(join(store, entry.file_name))).toBe(false)
  expect(await fileRow()).toBe(0)
})

test("an older upsert arriving after the tombstone does not resurrect the model, nor start a copy", async () => {
  // The original upload's envelope relayed late, and an older re-upload: both lose to the tombstone.
  expect(await modelEntry.apply(db.sql, modelEntry.parse(entry), stamp(5))).toBe(false)
  expect(
    await modelEntry.apply(db.sql, modelEntry.parse({ ...entry, size: 1, sha256: "0".repeat(64) }), stamp(6)),
  ).toBe(false)
  const [row] = await db.sql`select deleted, hlc from catalogue_entries where file_name = ${entry.file_name}`
  expect(row).toEqual({ deleted: true, hlc: stamp(7).hlc })
  expect(await listed()).toEqual([])
  await sync.tick() // a live entry would be copied from the unreachable master, and throw
  expect(existsSync(join(store, entry.file_name))).toBe(false)
  // A newer upload (the admin uploads it again on the master) does bring it back.
  expect(await modelEntry.apply(db.sql, modelEntry.parse(entry), stamp(8))).toBe(true)
  expect(await listed()).toEqual([["gone.gguf", false]])
  // ...and the sync does try to copy it then (the unreachable master fails it): the calls above proved something.
  await expect(sync.tick()).rejects.toThrow(/catalogue copies to retry: gone\.gguf/)
})
