// The worker hub with its own handlers and fake sockets.
//
// A revocation's connections can be closed by either of two callers: the admin's revoke route, and
// the cluster sweep that sees the committed revocation (every 500 ms). Whichever runs first, the
// route's answer counts the connections the revocation closed (the CI run where the sweep won
// answered connections_closed: 0 for a worker it had just disconnected).
//
// A heartbeat's latency report is handed to latency routing without waiting; when that fails (the
// database it reads is briefly unreachable), the pool must log it, not die of an unhandled rejection
// (Bun ends the process on one, taking every worker's connection with it).
import { expect, test } from "bun:test"
import type { ServerWebSocket } from "bun"
import { workerHub, type WsData } from "../../../core/workers/hub.ts"
import { Scheduler } from "../../../core/scheduler/scheduler.ts"
import { ManualClock } from "../../../core/clock.ts"
import { watchEscapes } from "../../support/escapes.ts"
import { workerHello } from "../../support/worker-hello.ts"

function fakeSocket(hub: ReturnType<typeof workerHub>, tokenId: number | undefined) {
  const sent: string[] = []
  const closes: number[] = []
  const ws = {
    data: { remote: "10.0.0.9", tokenId } as WsData,
    readyState: 1,
    send: (m: string) => void sent.push(m),
    close(code: number, reason: string) {
      closes.push(code)
      this.readyState = 3
      // Bun runs the close handler once the socket is closed: the hub forgets it there.
      hub.handler.close?.(ws as unknown as ServerWebSocket<WsData>, code, reason)
    },
  }
  hub.handler.open?.(ws as unknown as ServerWebSocket<WsData>)
  return { ws, sent, closes }
}

test("the revoke answer counts the connections closed by the sweep that ran first; other tokens are untouched", () => {
  const scheduler = new Scheduler({ clock: new ManualClock(), maxQueue: 0, queueTimeoutMs: 1000, heartbeatMs: 1000 })
  const hub = workerHub({ scheduler, poolName: "p", heartbeatMs: 1000, resolveWorkerToken: async () => null })
  const a = fakeSocket(hub, 7)
  const b = fakeSocket(hub, 7)
  const other = fakeSocket(hub, 8)
  const shared = fakeSocket(hub, undefined)

  // The sweep closes first...
  expect(hub.closeToken(7)).toBe(2)
  expect(a.closes).toEqual([4003])
  expect(b.closes).toEqual([4003])
  expect(JSON.parse(a.sent[0]!)).toMatchObject({ type: "error", code: "worker_token_revoked" })
  // ...then the route asks: nothing left to close, and the answer still says what the revocation closed.
  expect(hub.closeToken(7)).toBe(2)
  expect(hub.liveTokenIds()).toEqual([8])
  expect(other.closes).toEqual([])
  expect(shared.closes).toEqual([])
  // A token that never had a connection closes none.
  expect(hub.closeToken(9)).toBe(0)
  for (const s of [other, shared]) clearTimeout(s.ws.data.helloTimer)
})

test("a heartbeat whose latency observation fails is logged; the pool and the worker stay up", async () => {
  const scheduler = new Scheduler({ clock: new ManualClock(), maxQueue: 0, queueTimeoutMs: 1000, heartbeatMs: 1000 })
  let failed = 0
  const hub = workerHub({
    scheduler,
    poolName: "p",
    heartbeatMs: 1000,
    latency: {
      probeMs: () => 1000,
      hello: async () => null,
      heartbeat: async () => {
        failed++
        throw new Error("database unreachable")
      },
      gone: () => {},
    },
  })
  const escapes = watchEscapes()
  try {
    const w = fakeSocket(hub, undefined)
    const ws = w.ws as unknown as ServerWebSocket<WsData>
    hub.handler.message?.(ws, JSON.stringify(workerHello()))
    await Bun.sleep(5)
    expect(w.ws.data.worker?.id).toBe("worker-0001")
    hub.handler.message?.(ws, JSON.stringify({ type: "heartbeat", activity: "available", pool_rtts: { atom_b: 3 } }))
    await Bun.sleep(20)
    expect(failed).toBe(1)
    expect(escapes.escaped).toEqual([])
    expect(w.closes).toEqual([])
    expect(scheduler.snapshot().workers.map((x) => x.id)).toEqual(["worker-0001"])
    w.ws.close(1000, "test over")
  } finally {
    escapes.stop()
    scheduler.stop()
  }
})

test("a join whose worker-id claim fails is closed with 1011; the workers around it join and stay", async () => {
  // The claim is one database transaction per joining worker; during a join storm the one in flight when
  // the database connection dropped failed (bench/README "fleet --pools"). Only that worker may go.
  const scheduler = new Scheduler({ clock: new ManualClock(), maxQueue: 0, queueTimeoutMs: 1000, heartbeatMs: 1000 })
  const hub = workerHub({
    scheduler,
    poolName: "p",
    heartbeatMs: 1000,
    claimWorkerId: async (id) => {
      if (id === "worker-0002") throw new Error("write CONNECTION_CLOSED")
      return true
    },
  })
  const escapes = watchEscapes()
  try {
    const ws = [1, 2, 3].map(() => fakeSocket(hub, undefined))
    for (const [i, w] of ws.entries())
      hub.handler.message?.(
        w.ws as unknown as ServerWebSocket<WsData>,
        JSON.stringify(workerHello({ worker_id: `worker-000${i + 1}` })),
      )
    await Bun.sleep(10)
    expect(ws.map((w) => w.closes)).toEqual([[], [1011], []])
    expect(ws.map((w) => w.sent.some((m) => JSON.parse(m).type === "welcome"))).toEqual([true, false, true])
    expect(scheduler.snapshot().workers.map((x) => x.id)).toEqual(["worker-0001", "worker-0003"])
    expect(escapes.escaped).toEqual([])
    for (const w of [ws[0], ws[2]]) w.ws.close(1000, "test over")
  } finally {
    escapes.stop()
    scheduler.stop()
  }
})
