// core/workers/migration/balancer — the balancer's decision (issue 17, admin guide §4.6.2, licence
// feature `balancer`): from the observed load per pool and model (busy slots + queued jobs, as pools
// advertise it in their signed forward-capacity answer), the declared headcount of the sites each pool
// serves, and this pool's own workers (slots, jobs in flight, hardware class, pin, recent moves), the
// moves THIS pool orders for ITS OWN workers. Only the pool a worker is connected to ever issues for it,
// so two pools never order the same worker. Pure: no clock, no I/O; the loop in balancer-loop.ts feeds it.
//
// The target distribution, per model: every pool's weight is its demand, busy + queued, plus its share
// of the declared headcount (a number in [0, 1], so headcount only tips balances the load leaves even);
// the total slots of the cluster are split in proportion. A pool gives a worker to the peer with the
// largest deficit when all of this holds (the hysteresis):
// - the peer has a backlog (queued > 0): nothing moves on a quiet cluster;
// - its deficit and this pool's surplus are each at least half the worker's slots, so the move brings
//   both closer to target and never overshoots into a move back;
// - the peer's pressure (demand / slots) after the move stays above this pool's by `minPressureGap`;
// - the worker is idle (no job in flight: the executor drains anyway, but an idle worker moves at once),
//   not pinned to a home pool, has no open order, and was not moved within the cool-down;
// - it is not this pool's last worker for the model (the pool keeps serving what it served);
// - at most `maxMoves` orders per pass, and none while one of this pool's orders is still open.
// Among candidates: the one whose slots fit the deficit best, then by hardware class (cpu before
// gpu-small before gpu-large: the mobile, lighter machines move first), then by id (stable).

export interface PoolLoad {
  pool: string
  /** Per model id: slots, busy slots, queued jobs. */
  models: Record<string, { slots: number; busy: number; queued: number }>
  /** Declared headcount of the sites this pool serves (0: none declared). */
  headcount: number
}

export interface OwnWorker {
  id: string
  models: string[]
  /** Slots the worker offers (per model, the largest). */
  slots: number
  busy: number
  hardwareClass?: string
  /** Pinned to a home pool (§4.2 on-site): never moved by the balancer. */
  pinned: boolean
  /** Has an open order, or finished a move within the cool-down. */
  cooling: boolean
}

export interface BalanceInput {
  self: PoolLoad
  peers: PoolLoad[]
  workers: OwnWorker[]
  /** This pool has an order still issued or draining. */
  openOrders: number
  maxMoves?: number
  minPressureGap?: number
}

export interface Move {
  worker_id: string
  target_pool: string
  model: string
  reason: string
}

const CLASS_RANK: Record<string, number> = { cpu: 0, "gpu-small": 1, "gpu-large": 2 }

const pressure = (demand: number, slots: number) => (slots <= 0 ? (demand > 0 ? Infinity : 0) : demand / slots)

export function planMoves(input: BalanceInput): Move[] {
  const maxMoves = input.maxMoves ?? 1
  const gap = input.minPressureGap ?? 0.5
  if (input.openOrders > 0 || maxMoves <= 0) return []
  const moves: Move[] = []
  const taken = new Set<string>()
  const pools = [input.self, ...input.peers]
  const totalHeadcount = pools.reduce((n, p) => n + Math.max(0, p.headcount), 0)
  const models = [...new Set(input.workers.flatMap((w) => w.models))].sort()
  for (const model of models) {
    if (moves.length >= maxMoves) break
    const load = pools.map((p) => {
      const m = p.models[model] ?? { slots: 0, busy: 0, queued: 0 }
      const share = totalHeadcount > 0 ? Math.max(0, p.headcount) / totalHeadcount : 0
      return {
        pool: p.pool,
        slots: m.slots,
        queued: m.queued,
        demand: m.busy + m.queued,
        weight: m.busy + m.queued + share,
      }
    })
    const totalSlots = load.reduce((n, l) => n + l.slots, 0)
    const totalWeight = load.reduce((n, l) => n + l.weight, 0)
    if (totalSlots <= 0 || totalWeight <= 0) continue
    const target = (l: (typeof load)[number]) => (totalSlots * l.weight) / totalWeight
    const me = load[0]!
    const surplus = me.slots - target(me)
    const needy = load
      .slice(1)
      .filter((l) => l.queued > 0)
      .map((l) => ({ ...l, deficit: target(l) - l.slots }))
      .sort((a, b) => b.deficit - a.deficit || (a.pool < b.pool ? -1 : 1))
    const mine = input.workers.filter((w) => w.models.includes(model) && !taken.has(w.id))
    for (const peer of needy) {
      const candidates = mine
        .filter((w) => !w.pinned && !w.cooling && w.busy === 0 && w.slots > 0)
        .filter((w) => mine.length > 1 && me.slots - w.slots > 0)
        .filter((w) => peer.deficit >= w.slots / 2 && surplus >= w.slots / 2)
        .filter((w) => pressure(peer.demand, peer.slots + w.slots) - pressure(me.demand, me.slots - w.slots) >= gap)
        .sort(
          (a, b) =>
            Math.abs(a.slots - peer.deficit) - Math.abs(b.slots - peer.deficit) ||
            (CLASS_RANK[a.hardwareClass ?? ""] ?? 0) - (CLASS_RANK[b.hardwareClass ?? ""] ?? 0) ||
            (a.id < b.id ? -1 : 1),
        )
      const w = candidates[0]
      if (!w) continue
      taken.add(w.id)
      moves.push({
        worker_id: w.id,
        target_pool: peer.pool,
        model,
        reason: `balancer: ${model} ${peer.demand} busy+queued on ${peer.slots} slots there, ${me.demand} on ${me.slots} here`,
      })
      break
    }
  }
  return moves.slice(0, maxMoves)
}
