// The per-employee queue bound (admin guide §0.3) with a real pool, a real worker and real API keys:
// with CELLULE_CLIENT_QUEUE_MAX=2, a client's third waiting request gets 429 client_queue_full with
// Retry-After, while another client still gets in and is served.
import { afterAll, beforeAll, expect, test } from "bun:test"
import { cleanupAll, startPool, startWorker, TEST_ADMIN, type PoolProc } from "../support/proc.ts"
import { tinyLlamaPath } from "../support/fixtures.ts"
import { until } from "../support/until.ts"

let pool: PoolProc

beforeAll(async () => {
  const model = await tinyLlamaPath()
  const token = "client-queue-token-0123456"
  pool = await startPool({
    env: {
      CELLULE_WORKER_TOKEN: token,
      MAX_QUEUE: "50",
      CELLULE_CLIENT_QUEUE_MAX: "2",
      CELLULE_ANONYMOUS_ACCESS: "false",
      CELLULE_TRUSTED_NETWORKS: "127.0.0.1/32",
    },
  })
  await startWorker({ poolUrl: pool.url, token, models: [`tiny=${model}`], slots: 1 })
}, 400_000)
afterAll(cleanupAll)

async function newKey(name: string): Promise<string> {
  const r = await fetch(`${pool.url}/v1/admin/keys`, {
    method: "POST",
    headers: { "x-cellule-user": TEST_ADMIN.email, "content-type": "application/json" },
    body: JSON.stringify({ name }),
  })
  expect(r.status).toBe(201)
  return ((await r.json()) as { key: string }).key
}

const ask = (key: string, content: string, maxTokens: number, signal?: AbortSignal) =>
  fetch(`${pool.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
    body: JSON.stringify({ model: "tiny", messages: [{ role: "user", content }], max_tokens: maxTokens }),
    signal,
  })

const depth = async () => {
  const r = await fetch(`${pool.url}/v1/workers`)
  return (await r.json()) as { queue_depth: number; models: { busy: number }[] }
}

test("the third queued job of a client capped at 2 gets 429 client_queue_full; another client still gets in", async () => {
  const [alice, bob] = await Promise.all([newKey("alice"), newKey("bob")])
  const ac = new AbortController()
  // Alice: one running (long) and two waiting on the single slot.
  const running = ask(alice, "long one", 4000, ac.signal).catch(() => {})
  await until("Alice's first request running", async () => (await depth()).models[0]?.busy === 1, 30_000, 10)
  const waiting = [ask(alice, "two", 4, ac.signal).catch(() => {}), ask(alice, "three", 4, ac.signal).catch(() => {})]
  await until("two of Alice's requests queued", async () => (await depth()).queue_depth === 2, 30_000, 10)

  const third = await ask(alice, "four", 4)
  expect(third.status).toBe(429)
  expect(Number(third.headers.get("retry-after"))).toBeGreaterThanOrEqual(1)
  expect(((await third.json()) as { error: string }).error).toBe("client_queue_full")

  // Bob is another client: admitted behind Alice's jobs, then served once hers are gone.
  const bobs = ask(bob, "hello", 4)
  await until("Bob's request queued", async () => (await depth()).queue_depth === 3, 30_000, 10)
  ac.abort()
  await Promise.all([running, ...waiting])
  const served = await bobs
  expect(served.status).toBe(200)
  expect(((await served.json()) as { choices: unknown[] }).choices.length).toBe(1)
}, 120_000)
