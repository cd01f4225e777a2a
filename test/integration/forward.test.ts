// Inter-pool forward: a pool with no worker for a model hands the request to a bonded, trusted
// peer that has one (signed, one hop); the client sees one ordinary answer, streamed or not.
import { afterAll, beforeAll, expect, test } from "bun:test"
import OpenAI from "openai"
import { cleanupAll, startWorker } from "../support/proc.ts"
import { tinyLlamaPath } from "../support/fixtures.ts"
import { bondAll, startFedPool, type FedPool } from "../support/fed-pools.ts"

const TOKEN = "forward-token-0123456789"
const adminHdr = { "content-type": "application/json", "x-cellule-user": "admin@test.local" }
let a: FedPool
let b: FedPool

beforeAll(async () => {
  const model = await tinyLlamaPath()
  ;[a, b] = await Promise.all(
    ["pool-a", "pool-b"].map((name) => startFedPool({ name, env: { CELLULE_WORKER_TOKEN: TOKEN } })),
  )
  await bondAll([a, b])
  await startWorker({ poolUrl: b.url, token: TOKEN, models: [`tiny=${model}`], slots: 2 })
}, 180_000)
afterAll(cleanupAll)

test("a pool without a worker for the model forwards to its trusted peer", async () => {
  const res = await fetch(`${a.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      model: "tiny",
      messages: [{ role: "user", content: "hello" }],
      max_tokens: 12,
      temperature: 0,
    }),
  })
  expect(res.status).toBe(200)
  expect(res.headers.get("x-cellule-served-by")).toBe("pool-b")
  const viaA = (await res.json()) as {
    choices: { message: { content: string } }[]
    usage: { completion_tokens: number }
  }
  expect(viaA.usage.completion_tokens).toBe(12)

  // The same question asked of B directly gives the same answer: A only relayed it.
  const direct = new OpenAI({ baseURL: `${b.url}/v1`, apiKey: "x", maxRetries: 0 })
  const onB = await direct.chat.completions.create({
    model: "tiny",
    messages: [{ role: "user", content: "hello" }],
    max_tokens: 12,
    temperature: 0,
  })
  expect(viaA.choices[0].message.content).toBe(onB.choices[0].message.content!)

  const client = new OpenAI({ baseURL: `${a.url}/v1`, apiKey: "x", maxRetries: 0 })
  let streamed = ""
  for await (const c of await client.chat.completions.create({
    model: "tiny",
    messages: [{ role: "user", content: "hello" }],
    max_tokens: 12,
    temperature: 0,
    stream: true,
  }))
    streamed += c.choices[0]?.delta.content ?? ""
  expect(streamed).toBe(viaA.choices[0].message.content)
})

test("the forward endpoint refuses unsigned requests", async () => {
  const r = await fetch(`${b.url}/v1/federation/forward/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "tiny", messages: [{ role: "user", content: "x" }] }),
  })
  expect(r.status).toBe(401)
  expect(((await r.json()) as { error: string }).error).toBe("request_unsigned")
  // Nor does a pool tell an unsigned caller how its API keys are used.
  const usage = await fetch(`${b.url}/v1/federation/key-usage`)
  expect(usage.status).toBe(401)
  expect(((await usage.json()) as { error: string }).error).toBe("request_unsigned")
})

test("a model no pool serves still answers 404 model_not_found", async () => {
  const r = await fetch(`${a.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "nobody-has-this", messages: [{ role: "user", content: "x" }] }),
  })
  expect(r.status).toBe(404)
  expect(((await r.json()) as { error: string }).error).toBe("model_not_found")
})

test("an API key created on one pool works on its peer, and its revocation follows", async () => {
  const hdr = { "content-type": "application/json", "x-cellule-user": "admin@test.local" }
  const created = await fetch(`${a.url}/v1/admin/keys`, {
    method: "POST",
    headers: hdr,
    body: JSON.stringify({ name: "replicated", models: ["only-this-model"] }),
  })
  expect(created.status).toBe(201)
  const { id, key } = (await created.json()) as { id: string; key: string }
  const onB = () =>
    fetch(`${b.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
      body: JSON.stringify({ model: "tiny", messages: [{ role: "user", content: "x" }], max_tokens: 2 }),
    })
  // B knows the key (its allow-list applies there) once the envelope has arrived.
  let status = 0
  for (const t0 = Date.now(); Date.now() - t0 < 5000 && status !== 403; await Bun.sleep(100))
    status = (await onB()).status
  expect(status).toBe(403)
  expect(
    (
      await fetch(`${a.url}/v1/admin/keys/${id}`, {
        method: "DELETE",
        headers: { "x-cellule-user": "admin@test.local" },
      })
    ).status,
  ).toBe(204)
  // Revoked everywhere: B no longer applies the key (anonymous access is on, so it answers as anonymous).
  for (const t0 = Date.now(); Date.now() - t0 < 10_000 && status === 403; await Bun.sleep(200))
    status = (await onB()).status
  expect(status).toBe(200)
})

test("the Worker balancing page shows declared headcount, contributing machines per pool and usage per key", async () => {
  const hdr = { "content-type": "application/json", "x-cellule-user": "admin@test.local" }
  expect(
    (
      await fetch(`${a.url}/v1/admin/sites/paris`, {
        method: "PUT",
        headers: hdr,
        body: JSON.stringify({ name: "Paris", headcount: 40 }),
      })
    ).status,
  ).toBeLessThan(300)
  const { key } = (await (
    await fetch(`${a.url}/v1/admin/keys`, {
      method: "POST",
      headers: hdr,
      body: JSON.stringify({ name: "accounting-team" }),
    })
  ).json()) as { key: string }
  // Asked of A, which has no worker: B serves it and meters it against the key A admitted.
  let ok = 0
  for (const t0 = Date.now(); Date.now() - t0 < 5000 && ok !== 200; await Bun.sleep(100))
    ok = (
      await fetch(`${a.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
        body: JSON.stringify({ model: "tiny", messages: [{ role: "user", content: "x" }], max_tokens: 4 }),
      })
    ).status
  expect(ok).toBe(200)
  // The site was declared on A: wait for its envelope on B, and for B to record the usage (written
  // just after the answer, so it may land a moment later).
  let page = ""
  const PARIS_40 = '<td>Paris</td><td class="headcount">40</td>'
  const usageOnB = /<title>\d{4}-\d\d-\d\d · accounting-team · \d+<\/title>/
  for (
    const t0 = Date.now();
    Date.now() - t0 < 5000 && !(page.includes(PARIS_40) && usageOnB.test(page));
    await Bun.sleep(100)
  )
    page = await (
      await fetch(`${b.url}/balancing`, { headers: { "x-cellule-user": "admin@test.local", "accept-language": "fr" } })
    ).text()
  expect(page).toContain("<h1>Répartition des workers</h1>")
  // The test setup declares HQ (12); Paris (40) came from A by gossip.
  expect(page).toContain(PARIS_40)
  expect(page).toMatch(/id="headcount-total">52</)
  expect(page).toContain("1 workers pour 52 salariés déclarés")
  expect(page).toContain("pool-b (ce pool)")
  expect(page).toContain("pool-a")
  expect(page).toContain("<svg")
  expect(page).toContain("accounting-team")
  // The forwarded request was metered on B against the key A admitted.
  expect(page).toMatch(usageOnB)
  // A's page and its cluster-scope usage API show it too: usage is charted across the cluster.
  const pageOnA = await (
    await fetch(`${a.url}/balancing`, { headers: { "x-cellule-user": "admin@test.local" } })
  ).text()
  expect(pageOnA).toMatch(usageOnB)
  expect(pageOnA).toContain("Usage by API key across the cluster")
  expect(pageOnA).not.toContain('id="usage-missing"')
  const local = (await (await fetch(`${a.url}/v1/admin/usage`, { headers: adminHdr })).json()) as {
    data: { name: string | null }[]
  }
  expect(local.data.some((r) => r.name === "accounting-team")).toBe(false)
  const cluster = (await (await fetch(`${a.url}/v1/admin/usage?scope=cluster`, { headers: adminHdr })).json()) as {
    data: { name: string | null; requests: number }[]
    unreachable_pools: string[]
  }
  expect(cluster.data.find((r) => r.name === "accounting-team")?.requests).toBe(1)
  expect(cluster.unreachable_pools).toEqual([])
})

/** Keep asking until `f` returns `want` or time runs out; returns the last status. */
async function until(f: () => Promise<number>, want: number, ms = 5000): Promise<number> {
  let s = await f()
  for (const t0 = Date.now(); Date.now() - t0 < ms && s !== want; await Bun.sleep(100)) s = await f()
  return s
}

/**
 * A key made on `on` with `limits`, once `peer` has it too, and a chat call with it on any pool.
 * (Before its envelope arrives a pool treats the key as unknown, i.e. anonymous in these tests.)
 */
async function replicatedKey(on: FedPool, peer: FedPool, body: Record<string, unknown>, maxTokens: number) {
  const { id, key } = (await (
    await fetch(`${on.url}/v1/admin/keys`, { method: "POST", headers: adminHdr, body: JSON.stringify(body) })
  ).json()) as { id: string; key: string }
  await until(
    async () => ((await (await fetch(`${peer.url}/v1/admin/keys`, { headers: adminHdr })).text()).includes(id) ? 1 : 0),
    1,
  )
  const ask = (pool: FedPool) =>
    fetch(`${pool.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
      body: JSON.stringify({ model: "tiny", messages: [{ role: "user", content: "x" }], max_tokens: maxTokens }),
    })
  return { id, ask }
}

test("a key's requests-per-minute limit counts its use on every pool, not per pool", async () => {
  const { ask } = await replicatedKey(a, b, { name: "cluster-rpm", rpm: 4 }, 2)
  expect((await ask(a)).status).toBe(200)
  expect((await ask(a)).status).toBe(200)
  expect((await ask(b)).status).toBe(200)
  expect((await ask(b)).status).toBe(200)
  // Four in the minute across the two pools: each pool on its own has seen only two, yet both refuse
  // once their peer's count has arrived (CELLULE_KEY_USAGE_SYNC_MS, 200 ms here). Waited for, not
  // polled: every 200 a pool answered would count on that pool, which would then reach 4 on its own.
  await Bun.sleep(1500)
  expect((await ask(b)).status).toBe(429)
  const refused = await ask(a)
  expect(refused.status).toBe(429)
  expect(((await refused.json()) as { error: string }).error).toBe("rate_limited")
  expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0)
})

test("a monthly budget spent on one pool is spent on the other", async () => {
  const { id, ask } = await replicatedKey(b, a, { name: "cluster-budget", monthly_token_budget: 20 }, 16)
  // Spent on B (which serves and meters it); A never served this key, yet refuses it once B's total arrives.
  expect((await ask(b)).status).toBe(200)
  const usage = (await (await fetch(`${b.url}/v1/admin/usage?key_id=${id}`, { headers: adminHdr })).json()) as {
    data: { prompt_tokens: number; completion_tokens: number }[]
  }
  expect(usage.data[0].prompt_tokens + usage.data[0].completion_tokens).toBeGreaterThanOrEqual(20)
  const onA = await until(async () => (await ask(a)).status, 429)
  expect(onA).toBe(429)
  expect(((await (await ask(a)).json()) as { error: string }).error).toBe("budget_exhausted")
})

test("a forwarded request is metered against its key even on a pool the key has not reached yet", async () => {
  // C receives no gossip, so keys made on A never reach it; A forwards "tiny-c" to C, the only pool serving it.
  const c = await startFedPool({
    name: "pool-c",
    env: { CELLULE_WORKER_TOKEN: TOKEN, CELLULE_FED_GOSSIP_ENABLED: "false" },
  })
  await bondAll([a, c])
  await startWorker({ poolUrl: c.url, token: TOKEN, models: [`tiny-c=${await tinyLlamaPath()}`], slots: 1 })
  const { id, key } = (await (
    await fetch(`${a.url}/v1/admin/keys`, {
      method: "POST",
      headers: adminHdr,
      body: JSON.stringify({ name: "made-on-a" }),
    })
  ).json()) as { id: string; key: string }
  const status = await until(
    async () =>
      (
        await fetch(`${a.url}/v1/chat/completions`, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
          body: JSON.stringify({ model: "tiny-c", messages: [{ role: "user", content: "x" }], max_tokens: 3 }),
        })
      ).status,
    200,
    15_000,
  )
  expect(status).toBe(200)
  expect(await (await fetch(`${c.url}/v1/admin/keys`, { headers: adminHdr })).text()).not.toContain(id)
  let rows: { requests: number; completion_tokens: number }[] = []
  for (const t0 = Date.now(); Date.now() - t0 < 5000 && !rows.length; await Bun.sleep(100))
    rows = (
      (await (await fetch(`${c.url}/v1/admin/usage?key_id=${id}`, { headers: adminHdr })).json()) as {
        data: typeof rows
      }
    ).data
  expect(rows).toHaveLength(1)
  expect(rows[0].requests).toBe(1)
  expect(rows[0].completion_tokens).toBe(3)
})
