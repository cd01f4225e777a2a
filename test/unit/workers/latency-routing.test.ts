// §4.8 latency routing: the pure decision on a table of cases (same /24, another /24, measured round trips
// preferred over the /24 rule, margins) and the router's hysteresis (N stable observations, flapping
// measures never move a worker, one order per worker, the cool-down also after a move from another pool).
import { describe, expect, test } from "bun:test"
import { latencyChoice, LatencyRouter, subnet24, type LatencyInput } from "../../../core/workers/migration/latency.ts"

const A = { atom_id: "atom_a", url: "http://10.1.0.1:8080" }
const B = { atom_id: "atom_b", url: "http://10.2.0.1:8080" }
const C = { atom_id: "atom_c", url: "http://pool-c.example:8080" }
const base: LatencyInput = { address: "10.1.0.20", self: A, peers: [B, C], minGainMs: 5 }

describe("latencyChoice", () => {
  const cases: [string, Partial<LatencyInput>, string | null, string][] = [
    ["worker on this pool's /24 stays", { address: "10.1.0.20" }, null, "subnet"],
    ["worker on a peer's /24 goes there", { address: "10.2.0.33" }, "atom_b", "subnet"],
    ["IPv4-mapped IPv6 address", { address: "::ffff:10.2.0.33" }, "atom_b", "subnet"],
    ["no pool on the worker's /24: stays", { address: "10.9.0.5" }, null, "subnet"],
    ["IPv6 address: no /24, stays", { address: "fd00::5" }, null, "none"],
    ["a peer on the /24 but not trusted (not listed): stays", { address: "10.2.0.33", peers: [C] }, null, "subnet"],
    ["measured: the closer peer wins over the /24 (NAT)", { rtts: { atom_a: 40, atom_b: 1 } }, "atom_b", "rtt"],
    [
      "measured: this pool closest, stays though the /24 says a peer",
      { address: "10.2.0.33", rtts: { atom_a: 1, atom_b: 30 } },
      null,
      "rtt",
    ],
    ["measured: gain under min_gain_ms stays", { rtts: { atom_a: 6, atom_b: 2 } }, null, "rtt"],
    ["measured: above 70 % of this pool's stays", { rtts: { atom_a: 100, atom_b: 80 } }, null, "rtt"],
    ["measured: the closest of several peers", { rtts: { atom_a: 50, atom_b: 20, atom_c: 3 } }, "atom_c", "rtt"],
    [
      "only peers measured (this pool not): the /24 rule",
      { address: "10.2.0.33", rtts: { atom_c: 1 } },
      "atom_b",
      "subnet",
    ],
    ["only this pool measured: the /24 rule", { address: "10.2.0.33", rtts: { atom_a: 1 } }, "atom_b", "subnet"],
    ["an unknown id in the report is ignored", { rtts: { atom_a: 40, atom_zz: 1 } }, null, "subnet"],
  ]
  for (const [name, over, target, basis] of cases)
    test(name, () => {
      const c = latencyChoice({ ...base, ...over })
      expect(c.target).toBe(target)
      expect(c.basis).toBe(basis as never)
    })

  test("subnet24", () => {
    expect(subnet24("192.168.7.200")).toBe("192.168.7.0/24")
    expect(subnet24("300.1.1.1")).toBeNull()
    expect(subnet24("host.lan")).toBeNull()
  })
})

/** A router over fake deps: the orders it issues are recorded; time is a number the test moves. */
function harness(opts: { stable?: number; cooldownMs?: number; enabled?: boolean; pinned?: string[] } = {}) {
  let now = 1_000_000
  const issued: { worker_id: string; target_pool: string; at: number }[] = []
  const router = new LatencyRouter({
    now: () => now,
    enabled: () => opts.enabled ?? true,
    settings: () => ({ stableObservations: opts.stable ?? 3, minGainMs: 5, cooldownMs: opts.cooldownMs ?? 60_000 }),
    self: () => A,
    peers: async () => [B],
    lastOrder: async (id) => {
      const o = issued.filter((x) => x.worker_id === id).at(-1)
      // Completed one second after it was issued (the executor's work, faked).
      return o && { issued_at: new Date(o.at), finished_at: new Date(o.at + 1000), state: "completed" }
    },
    issue: async (o) => void issued.push({ ...o, at: now }),
    pinned: async (id) => (opts.pinned ?? []).includes(id),
  })
  return { router, issued, tick: (ms: number) => (now += ms) }
}

describe("LatencyRouter hysteresis", () => {
  test("a /24 match acts at the handshake, once per worker", async () => {
    const h = harness()
    expect(await h.router.hello("w1", "10.2.0.33")).toBe("atom_b")
    h.tick(2000)
    // The worker reconnects here before it left (or its order failed): no second order within the cool-down.
    expect(await h.router.hello("w1", "10.2.0.33")).toBeNull()
    expect(h.issued.map((o) => o.target_pool)).toEqual(["atom_b"])
    expect(await h.router.hello("w2", "10.1.0.9")).toBeNull()
    expect(h.issued).toHaveLength(1)
  })

  test("a worker pinned to its home pool is never moved by latency, a subnet match included", async () => {
    const h = harness({ pinned: ["w1"] })
    expect(await h.router.hello("w1", "10.2.0.33")).toBeNull()
    expect(await h.router.hello("w2", "10.2.0.34")).toBe("atom_b")
    expect(h.issued.map((o) => o.worker_id)).toEqual(["w2"])
  })

  test("off: nothing is issued", async () => {
    const h = harness({ enabled: false })
    expect(await h.router.hello("w1", "10.2.0.33")).toBeNull()
    expect(h.issued).toEqual([])
  })

  test("a measured preference needs N observations in a row", async () => {
    const h = harness({ stable: 3 })
    expect(await h.router.hello("w1", "10.1.0.254")).toBeNull() // NAT: the router's address, this pool's /24
    const far = { atom_a: 40, atom_b: 1 }
    expect(await h.router.heartbeat("w1", far)).toBeNull()
    expect(await h.router.heartbeat("w1", far)).toBeNull()
    expect(await h.router.heartbeat("w1", far)).toBe("atom_b")
    expect(h.issued).toHaveLength(1)
  })

  test("a flapping link (preference alternating) never issues an order", async () => {
    const h = harness({ stable: 3 })
    await h.router.hello("w1", "10.1.0.254")
    for (let i = 0; i < 20; i++) {
      h.tick(1000)
      await h.router.heartbeat("w1", i % 2 ? { atom_a: 40, atom_b: 1 } : { atom_a: 1, atom_b: 40 })
    }
    // Two in a row, then a round without B: still under 3.
    for (let i = 0; i < 10; i++) {
      await h.router.heartbeat("w1", { atom_a: 1 }) // B did not answer this round: the /24 rule, stay
      await h.router.heartbeat("w1", { atom_a: 40, atom_b: 1 })
      await h.router.heartbeat("w1", { atom_a: 40, atom_b: 1 })
    }
    expect(h.issued).toEqual([])
  })

  test("a worker moved here recently is not moved back within the cool-down, whatever it measures", async () => {
    const h = harness({ stable: 1, cooldownMs: 60_000 })
    await h.router.hello("w1", "10.1.0.254", undefined, 5_000)
    for (let i = 0; i < 5; i++) expect(await h.router.heartbeat("w1", { atom_a: 40, atom_b: 1 })).toBeNull()
    h.tick(56_000)
    expect(await h.router.heartbeat("w1", { atom_a: 40, atom_b: 1 })).toBe("atom_b")
  })

  test("after its order, a worker gets no new one within the cool-down, even with a stable new preference", async () => {
    const h = harness({ stable: 1, cooldownMs: 60_000 })
    await h.router.hello("w1", "10.1.0.254")
    expect(await h.router.heartbeat("w1", { atom_a: 40, atom_b: 1 })).toBe("atom_b")
    h.tick(10_000)
    for (let i = 0; i < 5; i++) expect(await h.router.heartbeat("w1", { atom_a: 40, atom_b: 1 })).toBeNull()
    expect(h.issued).toHaveLength(1)
  })
})
