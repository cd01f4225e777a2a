import { expect, test } from "bun:test"
import { ManualClock } from "../../../core/clock.ts"
import { type License, statusAt } from "../../../core/license/index.ts"

const DAY = 86_400_000
const issued = Date.UTC(2026, 0, 1)
const clock = new ManualClock(issued)
const exp = issued + 365 * DAY
const license = (grace_days: number): License => ({
  client_id: "cluster-example-001",
  tier: "cabinet",
  features: ["rag_documents"],
  limits: { max_pools: 3 },
  iat: issued / 1000,
  exp: exp / 1000,
  grace_days,
})

test.each([
  ["active a year out", exp - 365 * DAY, 30, "active", 365],
  ["active just over 30 days out", exp - 30 * DAY - 1, 30, "active", 31],
  ["warning_j30 at exactly 30 days", exp - 30 * DAY, 30, "warning_j30", 30],
  ["warning_j30 just under 30 days", exp - 30 * DAY + 1, 30, "warning_j30", 30],
  ["warning_j30 1 ms before exp", exp - 1, 30, "warning_j30", 1],
  ["grace at exp", exp, 30, "grace", 0],
  ["grace just after exp", exp + 1, 30, "grace", 0],
  ["grace 1 ms before its end", exp + 30 * DAY - 1, 30, "grace", -29],
  ["expired when grace ends", exp + 30 * DAY, 30, "expired", -30],
  ["expired at exp without grace", exp, 0, "expired", 0],
  ["expired long after", exp + 400 * DAY, 30, "expired", -400],
] as const)("%s", (_name, at, graceDays, status, daysRemaining) => {
  clock.set(at)
  const report = statusAt(license(graceDays), clock.now())
  expect(report.status).toBe(status)
  expect(report.days_remaining).toBe(daysRemaining)
})

test("grace reports the days left in the window", () => {
  expect(statusAt(license(30), exp + 10 * DAY).grace_days_remaining).toBe(20)
  expect(statusAt(license(30), exp - DAY).grace_days_remaining).toBeNull()
})

test("no licence is none: evaluation mode", () => {
  expect(statusAt(null, clock.now())).toMatchObject({ status: "none", client_id: null, days_remaining: null })
})

test("revoked wins over every date", () => {
  for (const at of [exp - 365 * DAY, exp - DAY, exp + DAY, exp + 400 * DAY])
    expect(statusAt(license(30), at, { revoked: true }).status).toBe("revoked")
})

test("the report carries what GET /v1/admin/license shows", () => {
  expect(statusAt(license(30), exp - 365 * DAY)).toEqual({
    status: "active",
    client_id: "cluster-example-001",
    tier: "cabinet",
    features: ["rag_documents"],
    limits: { max_pools: 3 },
    issued_at: "2026-01-01T00:00:00.000Z",
    expires_at: "2027-01-01T00:00:00.000Z",
    grace_ends_at: "2027-01-31T00:00:00.000Z",
    days_remaining: 365,
    grace_days_remaining: null,
  })
})
