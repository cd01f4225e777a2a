// The "worker_token" kind on a real PGlite: enrolments land keyed by hash, the later stamp wins, a
// revocation is never undone by a stale envelope (the row is marked to be published again instead).
import { afterAll, beforeAll, expect, test } from "bun:test"
import { testDatabase } from "../../support/db.ts"
import { cleanupAll } from "../../support/proc.ts"
import { workerTokenReplica as kind } from "../../../core/federation/kinds/worker-token.ts"
import type { Database } from "../../../core/db/client.ts"

let db: Database
beforeAll(async () => {
  db = await testDatabase()
})
afterAll(cleanupAll)

const hash = "ab".repeat(32)
const live = { token_hash: hash, name: "desk-1", os: "linux", hardware: "cpu", revoked: false }
const row = async () =>
  (await db.sql`select name, revoked_at, hlc from worker_tokens where token_hash = ${Buffer.from(hash, "hex")}`)[0]

test.each([
  ["a short hash", { ...live, token_hash: "ab" }],
  ["a name with spaces", { ...live, name: "a b" }],
  ["an unknown os", { ...live, os: "plan9" }],
  ["unknown hardware", { ...live, hardware: "tpu" }],
])("%s is refused as payload_invalid", (_what, p) => {
  expect(() => kind.parse(p)).toThrow(expect.objectContaining({ code: "payload_invalid" }))
})

test("last writer wins; a revocation sticks and a stale live envelope re-marks it for publishing", async () => {
  expect(await kind.apply(db.sql, kind.parse(live), { hlc: "0002", origin: "a" })).toBe(true)
  expect((await row()).name).toBe("desk-1")
  // An older stamp loses.
  expect(await kind.apply(db.sql, kind.parse({ ...live, name: "old" }), { hlc: "0001", origin: "a" })).toBe(false)
  expect((await row()).name).toBe("desk-1")
  expect(await kind.apply(db.sql, kind.parse({ ...live, revoked: true }), { hlc: "0003", origin: "b" })).toBe(true)
  expect((await row()).revoked_at).not.toBeNull()
  // A newer "live" envelope (published from a stale read) does not un-revoke; the row goes back to the outbox.
  expect(await kind.apply(db.sql, kind.parse(live), { hlc: "0004", origin: "a" })).toBe(true)
  const r = await row()
  expect(r.revoked_at).not.toBeNull()
  expect(r.hlc).toBe("")
})
