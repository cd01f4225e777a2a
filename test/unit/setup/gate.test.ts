// The wizard gate's decision and its cache: open paths, 503 vs 307, and how long "pending" is reused.
import { afterAll, describe, expect, test } from "bun:test"
import { ManualClock } from "../../../core/clock.ts"
import { isOpenBeforeSetup, SetupGate } from "../../../core/setup/gate.ts"
import { setupGateResponse } from "../../../core/http/setup-gate.ts"
import { testDatabase } from "../../support/db.ts"
import { cleanupAll } from "../../support/proc.ts"

afterAll(cleanupAll)

describe("setup gate", () => {
  test.each([
    ["/v1/status", true],
    ["/setup/ui", true],
    ["/setup/step/identity", true],
    ["/assets/htmx.min.js", true],
    ["/docs", true],
    ["/v1/status/x", true],
    ["/", false],
    ["/v1/chat/completions", false],
    ["/setupx", false],
    ["/v1/statuses", false],
  ])("%s open before setup: %p", (path, open) => {
    expect(isOpenBeforeSetup(path)).toBe(open)
  })

  test("pending is re-read from the database once its TTL has passed", async () => {
    const db = await testDatabase()
    const clock = new ManualClock()
    const gate = new SetupGate(db.sql, clock, 500)
    const api = new Request("http://localhost/v1/models")
    expect((await setupGateResponse(gate, api))!.status).toBe(503)
    expect(
      (await setupGateResponse(
        gate,
        new Request("http://localhost/", { headers: { accept: "text/html" } }),
      ))!.headers.get("location"),
    ).toBe("/setup/ui")
    await db.sql`insert into cluster_setup_state (id, completed_at) values (1, now())`
    clock.advance(499)
    expect((await setupGateResponse(gate, api))!.status).toBe(503)
    clock.advance(1)
    expect(await setupGateResponse(gate, api)).toBeNull()
  })
})
