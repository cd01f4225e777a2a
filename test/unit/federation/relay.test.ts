// Relay and pull repair between in-process pools on real signed HTTP: a change pushed by its origin is
// not relayed again (no duplicates, no `hw` asks on a full mesh); a pool its origin cannot reach gets the
// change by pulling it from a third pool, and one that pulled it second-hand relays it on.
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { cleanupAll } from "../../support/proc.ts"
import { meshInproc, startInprocPool, type InprocPool } from "../../support/fed-inproc.ts"
import { until } from "../../support/until.ts"

afterAll(cleanupAll)

async function settingOf(p: InprocPool, key: string) {
  const [row] = await p.db.sql`select value::text as v from cluster_settings where key = ${key}`
  return row ? JSON.parse(row.v) : undefined
}

const shows = (p: InprocPool, key: string, value: unknown) =>
  until(
    `${key} = ${JSON.stringify(value)} on ${p.name}`,
    async () => Bun.deepEquals(await settingOf(p, key), value),
    20_000,
    10,
  )

/** Make `a` and `b` unable to call each other (their bond stays): each records a dead URL for the other. */
async function cut(a: InprocPool, b: InprocPool) {
  await a.db.sql`update federation_peers set url = 'http://127.0.0.1:9' where atom_id = ${b.fed.identity.atomId}`
  await b.db.sql`update federation_peers set url = 'http://127.0.0.1:9' where atom_id = ${a.fed.identity.atomId}`
}

describe("full mesh of three", () => {
  let pools: InprocPool[]
  beforeAll(async () => {
    // Anti-entropy far away: what arrives here comes from pushes.
    const env = { CELLULE_FED_GOSSIP_MS: "100", CELLULE_FED_ANTI_ENTROPY_MS: "600000", CELLULE_FED_PROBE_MS: "600000" }
    pools = []
    for (const name of ["mesh-a", "mesh-b", "mesh-c"]) pools.push(await startInprocPool(name, env))
    await meshInproc(pools)
  }, 120_000)

  test("changes pushed by their origin reach every pool once: no relay, no hw asks, no duplicates", async () => {
    const [a, b, c] = pools
    await a.fed.publish("setting", { key: "moe_local_config", value: { n: 0 } })
    for (const p of [b, c]) await shows(p, "moe_local_config", { n: 0 })
    // Warmed up: every pipeline made its first exchange (a pull, which may race a push) on its first ticks.
    await Bun.sleep(1500)
    const before = [b, c].map((p) => ({
      hw: p.calls["p2p/hw"] ?? 0,
      replay: p.fed.stats.envelopes_refused.replay ?? 0,
    }))
    for (let n = 1; n <= 5; n++) {
      const value = { n }
      await a.fed.publish("setting", { key: "moe_local_config", value })
      for (const p of [b, c]) await shows(p, "moe_local_config", value)
    }
    await Bun.sleep(300) // a few relay ticks: anything they would send has been sent
    ;[b, c].forEach((p, i) => {
      expect(p.calls["p2p/hw"] ?? 0).toBe(before[i].hw)
      expect(p.fed.stats.envelopes_refused.replay ?? 0).toBe(before[i].replay)
    })
  }, 60_000)
})

describe("a pool its origin cannot reach", () => {
  let pools: InprocPool[]
  beforeAll(async () => {
    const quiet = { CELLULE_FED_GOSSIP_MS: "100", CELLULE_FED_PROBE_MS: "600000" }
    pools = [
      await startInprocPool("part-a", { ...quiet, CELLULE_FED_ANTI_ENTROPY_MS: "600000" }),
      await startInprocPool("part-b", { ...quiet, CELLULE_FED_ANTI_ENTROPY_MS: "600000" }),
      // C repairs by pulling often; D pulls only at start, so what reaches D later is relayed to it.
      await startInprocPool("part-c", { ...quiet, CELLULE_FED_ANTI_ENTROPY_MS: "300" }),
      await startInprocPool("part-d", { ...quiet, CELLULE_FED_ANTI_ENTROPY_MS: "600000" }),
    ]
    await meshInproc(pools)
    const [a, , c, d] = pools
    await cut(a, c)
    await cut(a, d)
    // Every pipeline's first exchange (a pull) is done: later, D can get a change only by a push.
    await Bun.sleep(1500)
  }, 180_000)

  test("gets the change by pull repair from a third pool, and relays what it pulled second-hand", async () => {
    const [a, b, c, d] = pools
    const value = { partitioned: true }
    const gossipToD = d.calls["p2p/gossip"] ?? 0
    await a.fed.publish("setting", { key: "moe_local_config", value })
    await shows(b, "moe_local_config", value) // pushed by A
    await shows(c, "moe_local_config", value) // pulled from B (A cannot reach C, nor C reach A)
    await shows(d, "moe_local_config", value) // relayed by C: D's own pull is 10 minutes away
    expect(d.calls["p2p/gossip"] ?? 0).toBeGreaterThan(gossipToD)
    // A's pipelines to C and D are failing; the others do not wait for them.
    const states = a.fed.pipelineStates()
    expect(states["part-c"].failures + states["part-d"].failures).toBeGreaterThan(0)
    expect(states["part-b"].failures).toBe(0)
  }, 60_000)
})

describe("a pool its origin stopped reaching", () => {
  let pools: InprocPool[]
  beforeAll(async () => {
    // No pull repair within the test: what reaches C comes from pushes.
    const env = { CELLULE_FED_GOSSIP_MS: "100", CELLULE_FED_ANTI_ENTROPY_MS: "600000", CELLULE_FED_PROBE_MS: "600000" }
    pools = []
    for (const name of ["far-a", "far-b", "far-c"]) pools.push(await startInprocPool(name, env))
    await meshInproc(pools)
  }, 120_000)

  test("gets the origin's pushes relayed by a peer, once the origin's own push to it fails", async () => {
    const [a, b, c] = pools
    await a.fed.publish("setting", { key: "moe_local_config", value: { n: 0 } })
    for (const p of [b, c]) await shows(p, "moe_local_config", { n: 0 })
    await cut(a, c)
    // Several relay ticks: A's pipeline to C takes the dead URL (each tick refreshes its peer). A push
    // made before that still reaches C, and nothing would fail (the clean-clone run where this raced).
    await Bun.sleep(1000)
    // A's push of n=1 to C fails (C was still in the list A sent B with it: B did not relay it).
    await a.fed.publish("setting", { key: "moe_local_config", value: { n: 1 } })
    await shows(b, "moe_local_config", { n: 1 })
    await until("A's pipeline to C failing", async () => a.fed.pipelineStates()["far-c"].failures > 0, 10_000, 10)
    // From now on A tells B it does not reach C: B relays A's changes to C (n=1 with them).
    const t0 = performance.now()
    await a.fed.publish("setting", { key: "moe_local_config", value: { n: 2 } })
    await shows(c, "moe_local_config", { n: 2 })
    const ms = performance.now() - t0
    // A relay tick or two, not C's pull ten minutes away.
    expect(ms).toBeLessThan(5000)
    const [log] = await c.db.sql`select count(*)::int as n from federation_log where origin = ${a.fed.identity.atomId}`
    const [onB] = await b.db.sql`select count(*)::int as n from federation_log where origin = ${a.fed.identity.atomId}`
    expect(log.n).toBe(onB.n)
  }, 60_000)
})
