// Property: whatever order envelopes travel in (shuffled, duplicated, partitioned, with equal clocks),
// three pools that end up exchanging everything hold identical replicated state.
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { cleanupAll } from "../../support/proc.ts"
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

// Runs the product's code: publish, ingest (per-origin sequence, duplicates, signatures) and each kind's
// last-writer-wins SQL, on three real embedded databases. (It used to check a copy of the merge rule too.)
describe("three pools on real databases", () => {
  let nodes: Node[]
  beforeAll(async () => {
    nodes = await makeNodes(3)
  }, 600_000)

  // The nodes are shared: each seed writes on top of the last one's converged state, which only adds history.
  test.each(Array.from({ length: 40 }, (_, i) => [i + 1]))(
    "seed %i: shuffled, partial, duplicated deliveries with standing clocks converge to identical state",
    async (seed) => {
      const r = rng(seed * 7919)
      for (let step = 0; step < 40; step++) {
        const n = pick(r, nodes)
        if (r() < 0.55) {
          // Concurrent writers: clocks drift independently and often stand still (ties resolve by atom_id).
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
    },
    120_000,
  )
})

async function syncAll(nodes: Node[]) {
  for (let round = 0; round < 5; round++)
    for (const from of nodes) for (const to of nodes) if (from !== to) await deliver(to, from, await missing(from, to))
}
