// Fair queuing with real processes and real API keys (created through the admin API, anonymous access
// off, so each key is its own client): round-robin between clients of one priority, and one client's
// batch flood does not slow another client's interactive requests beyond 2× their unloaded latency (p95).
import { afterAll, beforeAll, expect, test } from "bun:test"
import { cleanupAll, startPool, startWorker, TEST_ADMIN, type PoolProc } from "../support/proc.ts"
import { tinyLlamaPath } from "../support/fixtures.ts"
import { until } from "../support/until.ts"

let pool: PoolProc

beforeAll(async () => {
  const model = await tinyLlamaPath()
  const token = "fair-token-0123456789abc"
  pool = await startPool({
    env: {
      CELLULE_WORKER_TOKEN: token,
      MAX_QUEUE: "400",
      // One key floods the queue on purpose here; the per-client bound has its own test (client-queue.test.ts).
      CELLULE_CLIENT_QUEUE_MAX: "0",
      CELLULE_ANONYMOUS_ACCESS: "false",
      CELLULE_TRUSTED_NETWORKS: "127.0.0.1/32",
    },
  })
  await Promise.all([0, 1].map(() => startWorker({ poolUrl: pool.url, token, models: [`tiny=${model}`], slots: 2 })))
}, 400_000)
afterAll(cleanupAll)

const p95 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.ceil(0.95 * xs.length) - 1]

async function newKey(name: string): Promise<string> {
  const r = await fetch(`${pool.url}/v1/admin/keys`, {
    method: "POST",
    headers: { "x-cellule-user": TEST_ADMIN.email, "content-type": "application/json" },
    body: JSON.stringify({ name }),
  })
  expect(r.status).toBe(201)
  return ((await r.json()) as { key: string }).key
}

const ask = (key: string, priority: "interactive" | "batch", n: number, maxTokens = 48) =>
  fetch(`${pool.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}`, "x-cellule-priority": priority },
    body: JSON.stringify({
      model: "tiny",
      messages: [{ role: "user", content: `question ${n}` }],
      max_tokens: maxTokens,
    }),
  }).then(async (r) => {
    expect(r.status).toBe(200)
    await r.json()
  })

test("a made-up key is refused: only real keys name a client here", async () => {
  const r = await fetch(`${pool.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: "Bearer sk-cel-made-up-key" },
    body: JSON.stringify({ model: "tiny", messages: [{ role: "user", content: "hi" }], max_tokens: 4 }),
  })
  expect(r.status).toBe(401)
})

test("two keys of the same priority are served round-robin, not first come first served", async () => {
  const [alice, bob] = await Promise.all([newKey("alice"), newKey("bob")])
  const done: string[] = []
  const send = (who: "alice" | "bob", key: string, n: number) =>
    ask(key, "interactive", n, 16).then(() => {
      done.push(who)
    })
  // Alice queues 40 requests on 4 slots; Bob arrives with 6 once most of hers wait in the pool's queue.
  const aliceAll = Array.from({ length: 40 }, (_, i) => send("alice", alice, i))
  const { value: waiting } = await until(
    "Alice's requests queued",
    async () => {
      const r = await fetch(`${pool.url}/v1/workers`, { headers: { "x-cellule-user": TEST_ADMIN.email } })
      const { queue_depth } = (await r.json()) as { queue_depth: number }
      return queue_depth >= 20 && queue_depth
    },
    30_000,
    10,
  )
  await Promise.all(Array.from({ length: 6 }, (_, i) => send("bob", bob, i)))
  const alicePendingAfterBob = 40 - done.filter((w) => w === "alice").length
  await Promise.all(aliceAll)
  console.log(
    `alice waiting when bob arrived: ${waiting}; alice unanswered when bob's 6th was answered: ${alicePendingAfterBob}; order ${done.map((w) => w[0]).join("")}`,
  )
  // First come first served would dispatch every one of Alice's waiting requests before Bob's (at most
  // the 4 in service would remain unanswered); round-robin alternates, so Bob is done while hers still wait.
  expect(alicePendingAfterBob).toBeGreaterThanOrEqual(6)
})

test("200 batch requests from one key leave another key's interactive p95 within 2×", async () => {
  const [alice, script] = await Promise.all([newKey("alice interactive"), newKey("batch script")])
  const interactive = async (rounds: number) => {
    const times: number[] = []
    for (let i = 0; i < rounds; i++) {
      const t0 = performance.now()
      await ask(alice, "interactive", i)
      times.push(performance.now() - t0)
    }
    return times
  }

  await interactive(3) // warm-up
  // A p95 of 20 samples is the second-worst one: on a shared 2-core machine one stall can push a fair
  // scheduler past 2×, so the measurement is taken up to three times and the best round counts. First
  // come first served would put every interactive request behind the whole flood (tens of times slower)
  // in every round, which the per-round bound below still catches.
  const ratios: number[] = []
  for (let round = 0; round < 3; round++) {
    const unloaded = await interactive(20)
    let flooding = true
    const flood = Promise.all(Array.from({ length: 200 }, (_, i) => ask(script, "batch", i))).finally(
      () => (flooding = false),
    )
    await Bun.sleep(100)
    const loaded = await interactive(20)
    const stillFlooding = flooding
    await flood
    const ratio = p95(loaded) / p95(unloaded)
    console.log(
      `round ${round + 1}: interactive p95 unloaded ${p95(unloaded).toFixed(1)} ms, during flood ${p95(loaded).toFixed(1)} ms, ratio ${ratio.toFixed(2)}`,
    )
    // The measurement only means something if the flood was still queued while we measured.
    expect(stillFlooding).toBe(true)
    expect(ratio).toBeLessThan(8)
    ratios.push(ratio)
    if (ratio <= 2) break
  }
  expect(Math.min(...ratios)).toBeLessThanOrEqual(2)
})
