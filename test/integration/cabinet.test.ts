// The cabinet topology of install/compose/cabinet/compose.yaml, run as processes: three bonded pools
// (trust 3, embedded databases here, one pgvector server there), one worker joined through the
// `cellule proxy` entry (like the compose's demo worker), and chat completions answered through the entry
// whichever pool it picks: the pools without the worker forward to the one that has it.
import { afterAll, beforeAll, expect, test } from "bun:test"
import OpenAI from "openai"
import { cleanupAll, startCelluleProxy, startWorker } from "../support/proc.ts"
import { tinyLlamaPath } from "../support/fixtures.ts"
import { bondAll, startFedPool, type FedPool } from "../support/fed-pools.ts"
import { until } from "../support/until.ts"

const TOKEN = "cabinet-token-0123456789"
let pools: FedPool[]
let entry: { url: string }

beforeAll(async () => {
  const model = await tinyLlamaPath()
  pools = await Promise.all(
    ["cabinet-pool-a", "cabinet-pool-b", "cabinet-pool-c"].map((name) =>
      startFedPool({ name, env: { CELLULE_WORKER_TOKEN: TOKEN } }),
    ),
  )
  await bondAll(pools)
  entry = await startCelluleProxy(
    pools.map((p) => p.url),
    { CELLULE_PROXY_HEALTH_INTERVAL_MS: "500" },
  )
  await startWorker({ poolUrl: entry.url, token: TOKEN, models: [`tiny=${model}`], slots: 2 })
}, 240_000)
afterAll(cleanupAll)

async function chat(base: string) {
  const res = await fetch(`${base}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      model: "tiny",
      messages: [{ role: "user", content: "hello" }],
      max_tokens: 8,
      temperature: 0,
    }),
  })
  const body = (await res.json()) as {
    choices?: { message: { content: string } }[]
    usage?: { completion_tokens: number }
  }
  return { status: res.status, servedBy: res.headers.get("x-cellule-served-by"), body }
}

test("every pool of the cabinet answers a chat completion (the worker's directly, the others by forwarding)", async () => {
  const results = await Promise.all(
    pools.map((p) =>
      until(`a chat on ${p.name}`, async () => ((await chat(p.url)).status === 200 ? chat(p.url) : null), 30_000),
    ),
  )
  // One worker: the pool it joined answers itself (no x-cellule-served-by), the two others forward to it.
  const local = results.filter((r) => r.value.servedBy === null)
  expect(local).toHaveLength(1)
  const home = pools[results.indexOf(local[0]!)]!.name
  expect(results.map((r) => r.value.servedBy ?? home)).toEqual([home, home, home])
  for (const r of results) expect(r.value.body.usage!.completion_tokens).toBe(8)
  const answers = new Set(results.map((r) => r.value.body.choices![0]!.message.content))
  expect(answers.size).toBe(1)
})

test("chat completions through the cellule proxy entry, plain and streamed", async () => {
  for (let i = 0; i < 6; i++) {
    const r = await chat(entry.url)
    expect(r.status).toBe(200)
    expect(r.body.usage!.completion_tokens).toBe(8)
  }
  const client = new OpenAI({ baseURL: `${entry.url}/v1`, apiKey: "x", maxRetries: 0 })
  let text = ""
  let finish: string | null = null
  for await (const c of await client.chat.completions.create({
    model: "tiny",
    messages: [{ role: "user", content: "hello" }],
    max_tokens: 8,
    temperature: 0,
    stream: true,
  })) {
    text += c.choices[0]?.delta.content ?? ""
    finish = c.choices[0]?.finish_reason ?? finish
  }
  expect(text.length).toBeGreaterThan(0)
  expect(finish).toBe("length")
  // The entry's health check sees the three pools.
  const status = (await (await fetch(`${entry.url}/v1/status`)).json()) as { status: string; pool_name: string }
  expect(status.status).toBe("ok")
  expect(pools.map((p) => p.name)).toContain(status.pool_name)
})
