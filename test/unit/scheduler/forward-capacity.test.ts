// What a pool advertises to peers choosing where to forward (GET /v1/federation/forward-capacity): per
// model from the scheduler's running counts, equal to the sums over the fleet as workers join, take jobs,
// queue and leave, without building the fleet's snapshot (bench/fleet --pools: a peer asks every 2 s while
// it forwards). And a signed call may carry a query (?worker_id=) that the receiver still verifies.
import { afterAll, describe, expect, test } from "bun:test"
import { ManualClock } from "../../../core/clock.ts"
import { generateIdentity } from "../../../core/federation/identity.ts"
import { signedFetch, verifyRequest } from "../../../core/federation/transport.ts"
import { capacityOf, CAPACITY_PATH, Forwarder } from "../../../core/scheduler/forward.ts"
import type { Federation, Peer } from "../../../core/federation/index.ts"
import { Scheduler, type WorkerLink } from "../../../core/scheduler/scheduler.ts"
import { setLogLevel } from "../../../core/log.ts"

setLogLevel("error")

const make = () => new Scheduler({ clock: new ManualClock(), maxQueue: 0, queueTimeoutMs: 60_000, heartbeatMs: 1000 })

function join(s: Scheduler, id: string, models: { id: string; kind: "llm" | "embedding"; slots: number }[]) {
  const link = { send: () => {}, close: () => {} } satisfies WorkerLink
  return s.addWorker(
    {
      type: "hello",
      v: 1,
      worker_id: id,
      name: id,
      version: "t",
      hardware: { os: "linux", arch: "x64", cpu_threads: 2, ram_mb: 1024 },
      models,
      activity: "available",
    },
    link,
  )
}

/** The same answer computed the old way, from the snapshot of every worker. */
function fromSnapshot(s: Scheduler) {
  const snap = s.snapshot()
  const by = new Map<string, { id: string; kind: string; slots: number; busy: number; queued: number }>()
  for (const w of snap.workers)
    for (const m of w.models) {
      const e = by.get(m.id) ?? { id: m.id, kind: m.kind, slots: 0, busy: 0, queued: 0 }
      e.slots += m.slots
      e.busy += m.busy
      e.queued = (snap.queues as Record<string, number>)[m.id] ?? 0
      by.set(m.id, e)
    }
  return [...by.values()].sort((a, b) => a.id.localeCompare(b.id))
}
const sorted = (xs: ReturnType<typeof capacityOf>) => [...xs].sort((a, b) => a.id.localeCompare(b.id))
const sink = { onToken() {}, onDone() {}, onError() {} }

describe("forward capacity", () => {
  test("per model it equals the sums over the fleet as workers join, take jobs, queue and leave", () => {
    const s = make()
    join(s, "w-1", [{ id: "m", kind: "llm", slots: 2 }])
    join(s, "w-2", [
      { id: "m", kind: "llm", slots: 1 },
      { id: "e", kind: "embedding", slots: 4 },
    ])
    expect(sorted(capacityOf(s))).toEqual(fromSnapshot(s) as never)
    for (let i = 0; i < 5; i++) s.submit("m", "chat", { messages: [] }, sink as never)
    const busy = sorted(capacityOf(s))
    expect(busy.find((m) => m.id === "m")).toEqual({ id: "m", kind: "llm", slots: 3, busy: 3, queued: 2 })
    expect(busy).toEqual(fromSnapshot(s) as never)
    s.removeWorker("w-2", "test")
    expect(sorted(capacityOf(s))).toEqual(fromSnapshot(s) as never)
    expect(capacityOf(s).map((m) => m.id)).toEqual(["m"])
    s.removeWorker("w-1", "test")
    expect(capacityOf(s)).toEqual([])
    s.stop()
  })

  test("it never builds the fleet's snapshot (one record per worker, thousands of them)", () => {
    const s = make()
    for (let i = 0; i < 1000; i++) join(s, `w-${i}`, [{ id: "m", kind: "llm", slots: 1 }])
    s.snapshot = () => {
      throw new Error("snapshot built")
    }
    expect(capacityOf(s)).toEqual([{ id: "m", kind: "llm", slots: 1000, busy: 0, queued: 0 }])
    expect(s.liveModels()).toEqual([{ id: "m", kind: "llm", slots: 1000, workers: 1000 }])
    s.stop()
  })
})

describe("signed calls with a query", () => {
  const caller = generateIdentity()
  const seen: string[] = []
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(req) {
      await verifyRequest(req, new Uint8Array(), Date.now(), async (a) =>
        a === caller.atomId ? caller.pubkey : undefined,
      )
      seen.push(new URL(req.url).search)
      return Response.json({ ok: true })
    },
    error: (e) => Response.json({ error: (e as { code?: string }).code ?? "x" }, { status: 401 }),
  })
  afterAll(() => server.stop(true))

  test("?worker_id= reaches the receiver and the signature over the path still verifies", async () => {
    const url = `http://127.0.0.1:${server.port}`
    expect(
      await signedFetch(caller, url, `${CAPACITY_PATH}?worker_id=w%2D1`, { now: Date.now(), timeoutMs: 2000 }),
    ).toEqual({ ok: true })
    expect(seen).toEqual(["?worker_id=w%2D1"])
  })
})

describe("asking peers for their capacity", () => {
  let calls = 0
  const held: (() => void)[] = []
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch() {
      const n = ++calls
      // Held until the test lets it go: every concurrent caller is waiting on the same answer.
      await new Promise<void>((r) => held.push(r))
      return Response.json({ models: [{ id: "m", kind: "llm", slots: n, busy: 0, queued: 0 }], workers: 1 })
    },
  })
  afterAll(() => server.stop(true))
  const clock = new ManualClock()
  const fed = { identity: generateIdentity(), clock } as unknown as Federation
  const peer = { atom_id: "atom_b", url: `http://127.0.0.1:${server.port}`, pool_name: "b" } as Peer
  const until = async (cond: () => boolean) => {
    while (!cond()) await Bun.sleep(2)
  }

  test("callers that miss the cache together share one call; the answer is cached for the others", async () => {
    const f = new Forwarder(fed, 3, 2000)
    const asks = Array.from({ length: 20 }, () => f.peerCapacity(peer))
    await until(() => held.length === 1)
    held.shift()!()
    const answers = await Promise.all(asks)
    expect(calls).toBe(1)
    for (const a of answers) expect(a).toEqual([{ id: "m", kind: "llm", slots: 1, busy: 0, queued: 0 }])
    expect(await f.peerCapacity(peer)).toEqual(answers[0]!)
    expect(calls).toBe(1)
    // Past the cache's life, one new call.
    clock.advance(2001)
    const later = f.peerCapacity(peer)
    await until(() => held.length === 1)
    held.shift()!()
    expect((await later)[0]!.slots).toBe(2)
  })

  test("forget() while a call is out: the next caller asks again and the older answer is not cached", async () => {
    calls = 0
    const f = new Forwarder(fed, 3, 2000)
    const before = f.peerCapacity(peer)
    await until(() => held.length === 1)
    f.forget()
    const after = f.peerCapacity(peer)
    await until(() => held.length === 2)
    // The newer answer lands first, the older one last: the older must not replace it.
    const [first, second] = held.splice(0)
    second!()
    expect((await after)[0]!.slots).toBe(2)
    first!()
    expect((await before)[0]!.slots).toBe(1)
    expect((await f.peerCapacity(peer))[0]!.slots).toBe(2)
    expect(calls).toBe(2)
  })
})
