// The cluster view's fan-out: every peer asked at once, each bounded by the timeout; a peer that
// fails or hangs is named, the others' chains are shown. Peers are other processes: here a typed
// stand-in for the signed call (the signed route itself is tested through the federation routes).
import { describe, expect, test } from "bun:test"
import { type AuditPeer, clusterAudit, type PoolAudit } from "../../../core/audit/index.ts"

const ok = (pool: string, rows = 3): PoolAudit => ({ pool, rows: [], verify: { ok: true, rows, first_broken: null } })

describe("cluster audit view", () => {
  test("answers from every pool, and names the ones that failed or did not answer in time", async () => {
    const peers: AuditPeer[] = [
      { pool: "lyon", ask: async () => ({ rows: [], verify: { ok: true, rows: 7, first_broken: null } }) },
      { pool: "nantes", ask: () => Promise.reject(new Error("bad signature")) },
      { pool: "lille", ask: () => new Promise(() => {}) },
      {
        pool: "brest",
        ask: async () => ({ rows: [], verify: { ok: false, rows: 2, first_broken: { id: 3, reason: "gap" } } }),
      },
    ]
    const t0 = performance.now()
    const view = await clusterAudit(ok("paris"), peers, 300)
    expect(performance.now() - t0).toBeLessThan(2000)
    expect(view.pools.map((p) => p.pool)).toEqual(["paris", "lyon", "brest"])
    expect(view.pools[2].verify.first_broken).toEqual({ id: 3, reason: "gap" })
    expect(view.unreachable).toEqual([
      { pool: "nantes", reason: "bad signature" },
      { pool: "lille", reason: "no answer within 300 ms" },
    ])
  })

  test("without peers, the view is this pool alone", async () => {
    expect(await clusterAudit(ok("paris"), [])).toEqual({ pools: [ok("paris")], unreachable: [] })
  })
})
