// Property: whatever order envelopes travel in (shuffled, duplicated, partitioned, with equal clocks),
// three pools that end up exchanging everything hold identical replicated state.
import { afterAll, describe, expect, test } from "bun:test"
import { cleanupAll } from "../../support/proc.ts"
import { newer, encodeHlc } from "../../../core/federation/hlc.ts"
import { deliver, makeNodes, missing, pub, state, type Node } from "./_inproc.ts"

afterAll(cleanupAll)

/** mulberry32: small, seedable, good enough to shuffle. */
function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
const pick = <T>(r: () => number, xs: T[]) => xs[Math.floor(r() * xs.length)]
function shuffle<T>(r: () => number, xs: T[]): T[] {
  const a = [...xs]
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1))
    ;[a[i], a[j]] = [a[j], a[i]]
  }
  return a
}

describe("last-writer-wins merge (pure model)", () => {
  interface Env {
    origin: string
    seq: number
    hlc: string
    key: string
    value: number
  }
  interface Replica {
    hw: Map<string, number>
    state: Map<string, Env>
  }
  // The same rules ingest applies: per-origin contiguous sequence, then newer(hlc, origin) wins.
  const apply = (r: Replica, e: Env) => {
    const hw = r.hw.get(e.origin) ?? 0
    if (e.seq !== hw + 1) return false
    r.hw.set(e.origin, e.seq)
    if (newer(e, r.state.get(e.key))) r.state.set(e.key, e)
    return true
  }
  test.each(Array.from({ length: 300 }, (_, i) => [i + 1]))("seed %i converges", (seed) => {
    const r = rng(seed)
    const origins = ["atom_a", "atom_b", "atom_c"]
    const logs = new Map(origins.map((o) => [o, [] as Env[]]))
    const replicas = origins.map(() => ({ hw: new Map(), state: new Map() }) as Replica)
    let wall = 1000
    for (let step = 0; step < 60; step++) {
      if (r() < 0.5) {
        const i = Math.floor(r() * 3)
        const o = origins[i]
        if (r() < 0.7) wall += Math.floor(r() * 3) // equal walls happen often: ties resolve by atom_id
        const e: Env = {
          origin: o,
          seq: logs.get(o)!.length + 1,
          hlc: encodeHlc({ wall, counter: Math.floor(r() * 2) }),
          key: pick(r, ["k1", "k2", "k3"]),
          value: step,
        }
        logs.get(o)!.push(e)
        apply(replicas[i], e)
      } else {
        const to = pick(r, replicas)
        const all = shuffle(r, [...logs.values()].flat()).slice(0, Math.floor(r() * 8))
        for (const e of all) apply(to, e)
      }
    }
    for (let round = 0; round < 100; round++)
      for (const rep of replicas) for (const e of [...logs.values()].flat()) apply(rep, e)
    const snap = (x: Replica) => JSON.stringify([...x.state.entries()].sort())
    expect(snap(replicas[1])).toBe(snap(replicas[0]))
    expect(snap(replicas[2])).toBe(snap(replicas[0]))
  })
})

describe("three pools on real databases", () => {
  test("random interleavings of concurrent updates converge to identical state", async () => {
    const nodes = await makeNodes(3)
    for (const seed of [1, 2, 3, 4, 5]) {
      const r = rng(seed * 7919)
      for (let step = 0; step < 40; step++) {
        const n = pick(r, nodes)
        if (r() < 0.55) {
          // Concurrent writers: clocks drift independently and sometimes stand still.
          if (r() < 0.6) n.clock.advance(Math.floor(r() * 3))
          const what = r()
          if (what < 0.25)
            await pub(n, "setting", {
              key: "moe_local_config",
              value: { profile: pick(r, ["frugal", "balanced"]), by: n.name, step },
            })
          else if (what < 0.5)
            await pub(n, "setting", { key: pick(r, ["flags.rag_fanout", "flags.smart_routing"]), value: r() < 0.5 })
          else if (what < 0.85)
            await pub(n, "site", {
              site_id: pick(r, ["paris", "lyon"]),
              name: `${n.name}-${step}`,
              headcount: Math.floor(r() * 500),
            })
          else await pub(n, "project", { id: `prj_seed${seed}step${step}${n.name}`, name: `p${step}` })
        } else {
          // Partial, shuffled, possibly duplicated delivery from one pool to another.
          const from = pick(r, nodes)
          const to = pick(
            r,
            nodes.filter((x) => x !== from),
          )
          const batch = shuffle(r, await missing(from, to)).slice(0, 1 + Math.floor(r() * 6))
          if (r() < 0.3 && batch.length) batch.push(batch[0])
          await deliver(to, from, batch)
        }
      }
      await syncAll(nodes)
      const [s0, s1, s2] = await Promise.all(nodes.map(state))
      expect(s1).toBe(s0)
      expect(s2).toBe(s0)
    }
  }, 600_000)
})

async function syncAll(nodes: Node[]) {
  for (let round = 0; round < 5; round++)
    for (const from of nodes) for (const to of nodes) if (from !== to) await deliver(to, from, await missing(from, to))
}
