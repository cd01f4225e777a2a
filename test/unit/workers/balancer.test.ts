// The balancer's decision (issue 17): planMoves on tables of cases — who moves where, and every rule of
// the hysteresis that keeps a worker where it is.
import { describe, expect, test } from "bun:test"
import {
  planMoves,
  type BalanceInput,
  type OwnWorker,
  type PoolLoad,
} from "../../../core/workers/migration/balancer.ts"

const pool = (id: string, slots: number, busy: number, queued: number, headcount = 0): PoolLoad => ({
  pool: id,
  models: slots || busy || queued ? { tiny: { slots, busy, queued } } : {},
  headcount,
})
const worker = (id: string, over: Partial<OwnWorker> = {}): OwnWorker => ({
  id,
  models: ["tiny"],
  slots: 1,
  busy: 0,
  pinned: false,
  cooling: false,
  ...over,
})

const cases: { name: string; input: BalanceInput; expected: { worker_id: string; target_pool: string }[] }[] = [
  {
    name: "an idle pool gives one idle worker to the peer with a backlog",
    input: {
      self: pool("b", 2, 0, 0),
      peers: [pool("a", 2, 2, 6), pool("c", 2, 0, 0)],
      workers: [worker("w1"), worker("w2")],
      openOrders: 0,
    },
    expected: [{ worker_id: "w1", target_pool: "a" }],
  },
  {
    name: "quiet cluster: nothing moves",
    input: {
      self: pool("b", 2, 0, 0),
      peers: [pool("a", 2, 0, 0)],
      workers: [worker("w1"), worker("w2")],
      openOrders: 0,
    },
    expected: [],
  },
  {
    name: "busy without a queue: nothing moves (no backlog)",
    input: {
      self: pool("b", 2, 0, 0),
      peers: [pool("a", 2, 2, 0)],
      workers: [worker("w1"), worker("w2")],
      openOrders: 0,
    },
    expected: [],
  },
  {
    name: "this pool is the loaded one: it keeps its workers",
    input: {
      self: pool("a", 2, 2, 6),
      peers: [pool("b", 2, 0, 0)],
      workers: [worker("w1"), worker("w2")],
      openOrders: 0,
    },
    expected: [],
  },
  {
    name: "never the last worker for a model",
    input: { self: pool("b", 1, 0, 0), peers: [pool("a", 2, 2, 6)], workers: [worker("w1")], openOrders: 0 },
    expected: [],
  },
  {
    name: "a worker with a job in flight is not picked; an idle one is",
    input: {
      self: pool("b", 3, 1, 0),
      peers: [pool("a", 2, 2, 8)],
      workers: [worker("w1", { busy: 1 }), worker("w2"), worker("w3")],
      openOrders: 0,
    },
    expected: [{ worker_id: "w2", target_pool: "a" }],
  },
  {
    name: "pinned and cooling workers never move",
    input: {
      self: pool("b", 3, 0, 0),
      peers: [pool("a", 2, 2, 8)],
      workers: [worker("w1", { pinned: true }), worker("w2", { cooling: true }), worker("w3", { pinned: true })],
      openOrders: 0,
    },
    expected: [],
  },
  {
    name: "one of this pool's orders still open: wait for it",
    input: {
      self: pool("b", 2, 0, 0),
      peers: [pool("a", 2, 2, 6)],
      workers: [worker("w1"), worker("w2")],
      openOrders: 1,
    },
    expected: [],
  },
  {
    name: "small gap: a move would overshoot (peer pressure after ≈ own pressure after)",
    input: {
      self: pool("b", 2, 2, 1),
      peers: [pool("a", 2, 2, 1)],
      workers: [worker("w1"), worker("w2")],
      openOrders: 0,
    },
    expected: [],
  },
  {
    name: "the peer with the largest deficit gets the worker",
    input: {
      self: pool("c", 3, 0, 0),
      peers: [pool("a", 2, 2, 2), pool("b", 1, 1, 9)],
      workers: [worker("w1"), worker("w2"), worker("w3")],
      openOrders: 0,
    },
    expected: [{ worker_id: "w1", target_pool: "b" }],
  },
  {
    name: "hardware class: with equal fit, cpu moves before gpu",
    input: {
      self: pool("b", 3, 0, 0),
      peers: [pool("a", 2, 2, 8)],
      workers: [
        worker("g", { hardwareClass: "gpu-large" }),
        worker("s", { hardwareClass: "gpu-small" }),
        worker("z", { hardwareClass: "cpu" }),
      ],
      openOrders: 0,
    },
    expected: [{ worker_id: "z", target_pool: "a" }],
  },
  {
    name: "slots fit the deficit: a large deficit (6 slots) takes the 4-slot worker, not a 1-slot one",
    input: {
      self: pool("b", 6, 0, 0),
      peers: [pool("a", 4, 4, 1)],
      workers: [worker("big", { slots: 4 }), worker("small", { slots: 1 }), worker("mid", { slots: 1 })],
      openOrders: 0,
    },
    expected: [{ worker_id: "big", target_pool: "a" }],
  },
  {
    name: "a worker whose model the peer lacks in its backlog is not sent",
    input: {
      self: pool("b", 2, 0, 0),
      peers: [pool("a", 2, 2, 6)],
      workers: [worker("w1", { models: ["other"] }), worker("w2", { models: ["other"] })],
      openOrders: 0,
    },
    expected: [],
  },
  {
    name: "headcount tips an even load: the pool serving more people gets the worker",
    input: {
      self: pool("b", 3, 1, 1, 0),
      peers: [pool("a", 1, 1, 1, 500)],
      workers: [worker("w1"), worker("w2"), worker("w3")],
      openOrders: 0,
      minPressureGap: 0,
    },
    expected: [{ worker_id: "w1", target_pool: "a" }],
  },
  {
    name: "headcount alone never moves a worker on a quiet cluster",
    input: {
      self: pool("b", 2, 0, 0, 0),
      peers: [pool("a", 2, 0, 0, 500)],
      workers: [worker("w1"), worker("w2")],
      openOrders: 0,
    },
    expected: [],
  },
  {
    name: "maxMoves bounds the orders of one pass",
    input: {
      self: pool("b", 4, 0, 0),
      peers: [pool("a", 1, 1, 20)],
      workers: [worker("w1"), worker("w2"), worker("w3"), worker("w4")],
      openOrders: 0,
      maxMoves: 1,
    },
    expected: [{ worker_id: "w1", target_pool: "a" }],
  },
]

describe("planMoves", () => {
  for (const c of cases)
    test(c.name, () => {
      expect(planMoves(c.input).map(({ worker_id, target_pool }) => ({ worker_id, target_pool }))).toEqual(c.expected)
    })

  test("no flapping: after the move the receiving pool has no reason to send it back", () => {
    // b sent w2 to a; seen from a (now 3 slots, still a backlog), b (1 slot, idle) does not need it.
    const back = planMoves({
      self: pool("a", 3, 3, 3),
      peers: [pool("b", 1, 0, 0)],
      workers: [worker("x1"), worker("x2"), worker("w2")],
      openOrders: 0,
    })
    expect(back).toEqual([])
    // and b, with its last worker left, sends nothing more
    expect(
      planMoves({ self: pool("b", 1, 0, 0), peers: [pool("a", 3, 3, 3)], workers: [worker("w1")], openOrders: 0 }),
    ).toEqual([])
  })

  test("the reason names the load seen on both sides", () => {
    const [m] = planMoves({
      self: pool("b", 2, 0, 0),
      peers: [pool("a", 2, 2, 6)],
      workers: [worker("w1"), worker("w2")],
      openOrders: 0,
    })
    expect(m!.reason).toBe("balancer: tiny 8 busy+queued on 2 slots there, 0 on 2 here")
  })
})
