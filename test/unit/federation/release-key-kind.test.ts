// The "release_key" kind on a real PGlite: only an atom id and a 32-byte public key pass, anything
// else (a private key above all) is refused; keyed by atom id, the later stamp wins, and only
// the atom itself may publish its key.
import { afterAll, beforeAll, expect, test } from "bun:test"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { testDatabase } from "../../support/db.ts"
import { cleanupAll } from "../../support/proc.ts"
import { releaseKeyReplica as kind } from "../../../core/federation/kinds/release-key.ts"
import { KINDS } from "../../../core/federation/kinds/index.ts"
import { loadOrCreateReleaseKey } from "../../../core/workers/release-key.ts"
import type { Database } from "../../../core/db/client.ts"

let db: Database
beforeAll(async () => {
  db = await testDatabase()
})
afterAll(cleanupAll)

const keyA = loadOrCreateReleaseKey(mkdtempSync(join(tmpdir(), "relkey-a-"))).publicKey
const keyB = loadOrCreateReleaseKey(mkdtempSync(join(tmpdir(), "relkey-b-"))).publicKey
const good = { atom_id: "atom-b", public_key: keyA }
const row = async () => (await db.sql`select public_key, origin from release_keys where atom_id = 'atom-b'`)[0]

test("the kind is registered", () => {
  expect(KINDS.get("release_key")).toBe(kind)
})

test.each([
  ["a private key riding along", { ...good, private_key: "MC4CAQAwBQYDK2VwBCIEI..." }],
  ["a missing atom id", { public_key: keyA }],
  ["a short key", { ...good, public_key: "AAAA" }],
  ["a PEM key", { ...good, public_key: "-----BEGIN PUBLIC KEY-----" }],
  ["not an object", "atom-b"],
])("%s is refused as payload_invalid", (_what, p) => {
  expect(() => kind.parse(p)).toThrow(expect.objectContaining({ code: "payload_invalid" }))
})

test("last writer wins by hlc; the same stamp again changes nothing; only the atom itself may publish", async () => {
  const me = { hlc: "0002", origin: "atom-b" }
  expect(kind.parse(good)).toEqual(good)
  expect(await kind.apply(db.sql, kind.parse(good), me)).toBe(true)
  expect((await row()).public_key).toBe(keyA)
  // Idempotent: the same envelope again does not win.
  expect(await kind.apply(db.sql, kind.parse(good), me)).toBe(false)
  // An older stamp loses.
  expect(await kind.apply(db.sql, kind.parse({ ...good, public_key: keyB }), { ...me, hlc: "0001" })).toBe(false)
  expect((await row()).public_key).toBe(keyA)
  // Another pool cannot replace atom-b's key, however late its stamp.
  expect(await kind.apply(db.sql, kind.parse({ ...good, public_key: keyB }), { hlc: "0009", origin: "atom-c" })).toBe(
    false,
  )
  expect((await row()).public_key).toBe(keyA)
  // A later stamp from atom-b itself (a rotated key) wins.
  expect(await kind.apply(db.sql, kind.parse({ ...good, public_key: keyB }), { ...me, hlc: "0003" })).toBe(true)
  expect(await row()).toEqual({ public_key: keyB, origin: "atom-b" })
})
