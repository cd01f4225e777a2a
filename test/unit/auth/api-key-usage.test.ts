// ApiKeys' cluster-wide accounting on a real migrated database and a hand-moved clock: what a pool
// reports to its peers, how peers' reports add to its own counts for rpm, tpm and the monthly budget,
// how they age, and that a peer no longer trusted stops counting. (Two real pools: forward.test.ts.)
import { afterAll, expect, test } from "bun:test"
import { ManualClock } from "../../../core/clock.ts"
import { ApiKeys } from "../../../core/auth/api-keys.ts"
import { mergeDaily } from "../../../core/auth/key-usage-sync.ts"
import { cleanupAll } from "../../support/proc.ts"
import { testDatabase } from "../../support/db.ts"

afterAll(cleanupAll)

async function setup() {
  const db = await testDatabase()
  const clock = new ManualClock(Date.UTC(2026, 10, 25, 12, 0, 0))
  const keys = new ApiKeys(db.sql, clock)
  return { keys, clock }
}

const refusal = (p: Promise<unknown>) =>
  p.then(
    () => "admitted",
    (e: { code?: string }) => e.code ?? String(e),
  )

test("a pool reports its own minute in one-second buckets, as ages, and its month for budgeted keys", async () => {
  const { keys, clock } = await setup()
  // Requests are counted for keys with an rpm limit (the only ones they matter for).
  const { record: k } = await keys.create({ name: "reported", rpm: 100, monthly_token_budget: 1000 })
  await keys.admit(k, "m")
  clock.advance(300)
  await keys.admit(k, "m")
  clock.advance(1500)
  await keys.record({ keyId: k.id, model: "m", promptTokens: 7, completionTokens: 5, latencyMs: 1, poolName: "p" })
  const r = await keys.report()
  expect(r.month).toBe(Date.UTC(2026, 10, 1))
  const mine = r.keys[k.id]
  // Two requests in the same second (bucketed together), 1.8 s and 1.5 s ago; 12 tokens just now.
  expect(mine.req.reduce((n, [, c]) => n + c, 0)).toBe(2)
  expect(mine.req).toHaveLength(1)
  expect(mine.req[0][0]).toBeGreaterThanOrEqual(1500)
  expect(mine.tok).toEqual([[expect.any(Number), 12]])
  expect(mine.month_tokens).toBe(12)
  // A minute later the window is empty; the month stays.
  clock.advance(61_000)
  const later = (await keys.report()).keys[k.id]
  expect(later.req).toEqual([])
  expect(later.month_tokens).toBe(12)
})

test("peers' requests and tokens count against rpm and tpm, and age out of the minute", async () => {
  const { keys, clock } = await setup()
  const { record: k } = await keys.create({ name: "limited", rpm: 3, tpm: 100 })
  keys.peerReport("atom_peer", {
    month: Date.UTC(2026, 10, 1),
    keys: { [k.id]: { req: [[10_000, 2]], tok: [[10_000, 40]], month_tokens: 0 } },
  })
  expect(await refusal(keys.admit(k, "m"))).toBe("admitted")
  // 2 on the peer + 1 here = 3: the 4th is refused, and Retry-After points at the peer's oldest entry.
  const e = await keys.admit(k, "m").catch((x) => x)
  expect(e.code).toBe("rate_limited")
  expect(e.retryAfterS).toBe(50)
  // 50 s later the peer's two requests have left the minute.
  clock.advance(50_001)
  expect(await refusal(keys.admit(k, "m"))).toBe("admitted")
  // Tokens: the peer's report now says 100 in the last second: over tpm.
  keys.peerReport("atom_peer", {
    month: Date.UTC(2026, 10, 1),
    keys: { [k.id]: { req: [], tok: [[0, 100]], month_tokens: 0 } },
  })
  expect(await refusal(keys.admit(k, "m"))).toBe("token_rate_limited")
})

test("a budget counts every pool's month; an untrusted peer's report stops counting; bad entries are ignored", async () => {
  const { keys } = await setup()
  const { record: k } = await keys.create({ name: "budget", monthly_token_budget: 50 })
  await keys.record({ keyId: k.id, model: "m", promptTokens: 20, completionTokens: 0, latencyMs: 1, poolName: "p" })
  expect(await refusal(keys.admit(k, "m"))).toBe("admitted")
  keys.peerReport("atom_b", {
    month: Date.UTC(2026, 10, 1),
    keys: {
      [k.id]: {
        req: [
          [0, -3],
          ["x", 1],
        ] as never,
        tok: [],
        month_tokens: 30,
      },
    },
  })
  expect(await refusal(keys.admit(k, "m"))).toBe("budget_exhausted")
  // Last month's total from a peer does not count this month.
  keys.peerReport("atom_b", { month: Date.UTC(2026, 9, 1), keys: { [k.id]: { req: [], tok: [], month_tokens: 30 } } })
  expect(await refusal(keys.admit(k, "m"))).toBe("admitted")
  keys.peerReport("atom_b", { month: Date.UTC(2026, 10, 1), keys: { [k.id]: { req: [], tok: [], month_tokens: 30 } } })
  keys.keepPeers(["atom_other"])
  expect(await refusal(keys.admit(k, "m"))).toBe("admitted")
})

test("daily usage from several pools merges per day and key: counts add up, latency is weighted by requests", () => {
  const row = (day: string, key_id: string | null, name: string | null, requests: number, latency: number) => ({
    day,
    key_id,
    name,
    requests,
    prompt_tokens: requests * 10,
    completion_tokens: requests,
    avg_latency_ms: latency,
  })
  const merged = mergeDaily([
    [row("2026-11-24T00:00:00.000Z", "k1", "team", 1, 100), row("2026-11-25T00:00:00.000Z", null, null, 2, 50)],
    [row("2026-11-24T00:00:00.000Z", "k1", null, 3, 200), row("2026-11-24T00:00:00.000Z", "k2", "other", 1, 10)],
  ])
  expect(merged).toEqual([
    {
      day: "2026-11-24",
      key_id: "k2",
      name: "other",
      requests: 1,
      prompt_tokens: 10,
      completion_tokens: 1,
      avg_latency_ms: 10,
    },
    {
      day: "2026-11-24",
      key_id: "k1",
      name: "team",
      requests: 4,
      prompt_tokens: 40,
      completion_tokens: 4,
      avg_latency_ms: 175,
    },
    {
      day: "2026-11-25",
      key_id: null,
      name: null,
      requests: 2,
      prompt_tokens: 20,
      completion_tokens: 2,
      avg_latency_ms: 50,
    },
  ])
})
