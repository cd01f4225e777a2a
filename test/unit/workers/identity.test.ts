// A worker id belongs to its token (issue 22.5): the same token keeps the id across restarts, a new
// token (re-enrolment) gets a new id, and an id saved before fingerprints is adopted, not thrown away.
import { afterAll, expect, test } from "bun:test"
import { readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { loadOrCreateIdentity } from "../../../core/workers/identity.ts"
import { cleanupAll, tempDir } from "../../support/proc.ts"

afterAll(cleanupAll)

test("same token: same id; a new token after re-enrolment: a new id, same display name", () => {
  const dir = tempDir()
  const first = loadOrCreateIdentity(dir, "cwt_first")
  expect(loadOrCreateIdentity(dir, "cwt_first").worker_id).toBe(first.worker_id)
  const second = loadOrCreateIdentity(dir, "cwt_second")
  expect(second.worker_id).not.toBe(first.worker_id)
  expect(second.name).toBe(first.name)
  expect(readFileSync(join(dir, "worker.json"), "utf8")).not.toContain("cwt_second")
})

test("an id saved before token fingerprints is kept and bound to the current token", () => {
  const dir = tempDir()
  writeFileSync(join(dir, "worker.json"), JSON.stringify({ worker_id: "legacy-0001", name: "desk", created_at: "x" }))
  expect(loadOrCreateIdentity(dir, "cwt_a").worker_id).toBe("legacy-0001")
  expect(loadOrCreateIdentity(dir, "cwt_b").worker_id).not.toBe("legacy-0001")
})
