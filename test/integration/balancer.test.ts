// The balancer with real processes (issue 17, criterion 1): three bonded pools, two workers each (tiny
// model, one slot), timings scaled down by settings (balancer every 500 ms, executor every 200 ms). A
// steady load — half streamed, half not — goes to pool A only: its queue grows, B and C each order one of
// their idle workers to A by themselves (never their last one), the workers migrate, and not one request
// fails. The orders replicate: A's own orders page lists the orders B and C issued.
import { afterAll, beforeAll, expect, test } from "bun:test"
import OpenAI from "openai"
import { admin, bondAll, startFedPool, type FedPool } from "../support/fed-pools.ts"
import { cleanupAll, startWorker } from "../support/proc.ts"
import { tinyLlamaPath } from "../support/fixtures.ts"
import { until } from "../support/until.ts"

const TOKEN = "balancer-token-abcdefghijkl"
const ENV = {
  CELLULE_WORKER_TOKEN: TOKEN,
  CELLULE_MIGRATION_EXECUTOR_MS: "200",
  CELLULE_MIGRATION_TIMEOUT_MS: "8000",
  CELLULE_MIGRATION_COOLDOWN_MS: "60000",
  CELLULE_BALANCER_INTERVAL_MS: "500",
}

type Order = { id: string; worker_id: string; state: string; target_pool: string; source_pool: string; reason: string }

let pools: FedPool[]
let ids: { atom_id: string }[]

beforeAll(async () => {
  const model = await tinyLlamaPath()
  pools = await Promise.all(["bal-a", "bal-b", "bal-c"].map((name) => startFedPool({ name, env: ENV })))
  ids = await bondAll(pools)
  // Two waves of three (one per pool): six llama.cpp loads at once starve a small shared machine.
  for (let wave = 0; wave < 2; wave++)
    await Promise.all(
      pools.map((p) => startWorker({ poolUrl: p.url, token: TOKEN, models: [`tiny=${model}`], slots: 1, threads: 1 })),
    )
  for (const p of pools) await until(`two workers on ${p.name}`, async () => (await workersOn(p)).length === 2, 60_000)
}, 400_000)
afterAll(cleanupAll)

const workersOn = async (p: FedPool) =>
  (await admin<{ workers: { id: string }[] }>(p, "GET", "/v1/admin/workers")).workers.map((w) => w.id)
const orders = async (p: FedPool) => (await admin<{ data: Order[] }>(p, "GET", "/v1/admin/migration-orders")).data

/** `n` loops of requests to A, one after another each; odd loops stream. Every outcome is kept. */
function steadyLoad(url: string, n: number) {
  const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: "unused", maxRetries: 0, timeout: 60_000 })
  const outcomes: { stream: boolean; ok: boolean; error?: string }[] = []
  let running = true
  const once = async (stream: boolean) => {
    const body = { model: "tiny", messages: [{ role: "user" as const, content: "count to ten" }], max_tokens: 24 }
    if (stream) {
      let text = ""
      let finished = false
      for await (const c of await client.chat.completions.create({ ...body, stream: true })) {
        text += c.choices[0]?.delta?.content ?? ""
        if (c.choices[0]?.finish_reason) finished = true
      }
      if (!finished) throw new Error(`stream ended without finish_reason (${text.length} chars)`)
    } else {
      const r = await client.chat.completions.create(body)
      if (!r.choices[0]?.finish_reason) throw new Error("no finish_reason")
    }
  }
  const loop = async (i: number) => {
    const stream = i % 2 === 1
    while (running)
      await once(stream).then(
        () => outcomes.push({ stream, ok: true }),
        (e) => outcomes.push({ stream, ok: false, error: String((e as Error).message) }),
      )
  }
  const loops = Array.from({ length: n }, (_, i) => loop(i))
  return {
    outcomes,
    async stop() {
      running = false
      await Promise.all(loops)
      return outcomes
    },
  }
}

test("load skewed onto A: B and C order a worker each to A, they migrate, zero failed requests (streamed too)", async () => {
  const [a, b, c] = pools
  const before = await workersOn(a!)
  const load = steadyLoad(a!.url, 8)
  const { value: moved, ms } = await until(
    "orders from B and C completed",
    async () => {
      // Each pool lists the orders it issued and those replicated to it: each order once, by id.
      const all = new Map([...(await orders(b!)), ...(await orders(c!))].map((o) => [o.id, o]))
      const done = [...all.values()].filter((o) => o.state === "completed")
      return done.length >= 2 ? done : undefined
    },
    45_000,
  )
  console.log(`balancer: 2 workers moved to A in ${Math.round(ms)} ms`)
  for (const o of moved) {
    expect(o.target_pool).toBe(ids[0]!.atom_id)
    expect(o.reason).toStartWith("balancer:")
  }
  expect(new Set(moved.map((o) => o.source_pool))).toEqual(new Set([ids[1]!.atom_id, ids[2]!.atom_id]))
  await until("four workers on A", async () => (await workersOn(a!)).length === 4, 20_000)
  expect((await workersOn(a!)).filter((w) => !before.includes(w)).sort()).toEqual(moved.map((o) => o.worker_id).sort())
  // B and C keep their last worker: no second order while the load stays on A.
  const n = load.outcomes.length
  await until("more answers after the moves", async () => load.outcomes.length >= n + 8, 60_000)
  const outcomes = await load.stop()
  const failed = outcomes.filter((o) => !o.ok)
  console.log(
    `steady load: ${outcomes.length} requests (${outcomes.filter((o) => o.stream).length} streamed), ${failed.length} failed ${failed.map((f) => f.error).join("; ")}`,
  )
  expect(failed).toEqual([])
  expect(outcomes.filter((o) => o.stream).length).toBeGreaterThan(0)
  expect((await workersOn(b!)).length).toBe(1)
  expect((await workersOn(c!)).length).toBe(1)
  expect((await orders(b!)).filter((o) => o.source_pool === ids[1]!.atom_id)).toHaveLength(1)
  // Replicated: A lists the orders B and C issued, completed.
  await until(
    "B's and C's orders replicated to A, completed",
    async () =>
      (await orders(a!)).filter((o) => moved.some((m) => m.id === o.id) && o.state === "completed").length === 2,
    10_000,
  )
}, 200_000)
