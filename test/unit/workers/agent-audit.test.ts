// The worker's undelivered audit events across processes: what one agent could not send is kept in
// the data dir, the next agent sends it with its hello, and the file goes only once a pool welcomed
// that hello — a process killed in between (a self-update's trial run) loses nothing.
import { afterAll, expect, test } from "bun:test"
import { existsSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { ManualClock } from "../../../core/clock.ts"
import { AgentAuditTrail, recordForNextAgent } from "../../../core/workers/agent-audit.ts"
import { cleanupAll, tempDir } from "../../support/proc.ts"

afterAll(cleanupAll)
const clock = new ManualClock(Date.UTC(2026, 11, 5))
const names = (events: { event: string }[] | undefined) => (events ?? []).map((e) => e.event)
const onDisk = (dir: string) => names(JSON.parse(readFileSync(join(dir, "pending-events.json"), "utf8")))

test("events persisted at stop reach the next agent's hello; the file goes at the welcome", () => {
  const dir = tempDir("cellule-trail-")
  const first = new AgentAuditTrail(dir, clock)
  first.record("self_update_started", { to: "0.0.2" })
  first.record("self_update_staged", { to: "0.0.2" })
  first.persist()
  expect(onDisk(dir)).toEqual(["self_update_started", "self_update_staged"])

  const next = new AgentAuditTrail(dir, clock)
  expect(names(next.forHello())).toEqual(["self_update_started", "self_update_staged"])
  expect(existsSync(join(dir, "pending-events.json"))).toBe(true)
  next.welcomed()
  expect(existsSync(join(dir, "pending-events.json"))).toBe(false)
})

test("an agent killed between its hello and the welcome leaves the events for the one after", () => {
  const dir = tempDir("cellule-trail-")
  recordForNextAgent(dir, clock, "self_update_rolled_back", { to: "0.0.3" })
  const trial = new AgentAuditTrail(dir, clock)
  expect(names(trial.forHello())).toEqual(["self_update_rolled_back"])
  // (killed here: no welcome, no persist)
  const after = new AgentAuditTrail(dir, clock)
  expect(names(after.forHello())).toEqual(["self_update_rolled_back"])
})

test("a hello lost with its connection puts its events first in line, and a stop writes them once", () => {
  const dir = tempDir("cellule-trail-")
  recordForNextAgent(dir, clock, "failover_started", {})
  const t = new AgentAuditTrail(dir, clock)
  t.forHello()
  t.record("peer_lost", {})
  t.helloLost()
  t.persist()
  expect(onDisk(dir)).toEqual(["failover_started", "peer_lost"])
  const again = new AgentAuditTrail(dir, clock)
  again.forHello()
  again.helloLost()
  expect(names(again.drain())).toEqual(["failover_started", "peer_lost"])
})
