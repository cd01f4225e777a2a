import { describe, expect, test } from "bun:test"
import { FairQueue, type Priority } from "../../../core/scheduler/fair-queue.ts"

type Item = { client: string; priority: Priority; n: number }
const item = (client: string, n: number, priority: Priority = "interactive"): Item => ({ client, priority, n })
const drain = (q: FairQueue<Item>) => {
  const out: string[] = []
  for (let it = q.shift(); it; it = q.shift()) out.push(`${it.client}${it.n}`)
  return out
}

describe("FairQueue", () => {
  test("round-robin between clients, FIFO within a client", () => {
    const q = new FairQueue<Item>()
    for (let i = 1; i <= 4; i++) q.push(item("a", i))
    q.push(item("b", 1))
    q.push(item("c", 1))
    q.push(item("b", 2))
    expect(drain(q)).toEqual(["a1", "b1", "c1", "a2", "b2", "a3", "a4"])
  })

  test("interactive always before batch, whatever the arrival order", () => {
    const q = new FairQueue<Item>()
    for (let i = 1; i <= 200; i++) q.push(item("flood", i, "batch"))
    q.push(item("alice", 1))
    expect(q.shift()).toMatchObject({ client: "alice" })
    expect(q.length).toBe(200)
  })

  test("a re-queued job goes back to the head", () => {
    const q = new FairQueue<Item>()
    q.push(item("a", 1))
    q.push(item("b", 1))
    q.unshift(item("c", 9))
    expect(drain(q)).toEqual(["c9", "a1", "b1"])
  })

  test("remove takes a waiting job out and the client leaves the rotation when empty", () => {
    const q = new FairQueue<Item>()
    const x = item("a", 1)
    q.push(x)
    q.push(item("b", 1))
    expect(q.remove(x)).toBe(true)
    expect(q.remove(x)).toBe(false)
    expect(q.countFor("a")).toBe(0)
    expect(drain(q)).toEqual(["b1"])
  })
})
