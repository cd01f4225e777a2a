// API keys on a real pool: required when anonymous access is off, model allow-list, requests per
// minute, monthly budget, usage recorded, revocation.
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import postgres from "postgres"
import { cleanupAll, startPool, startWorker, type PoolProc } from "../support/proc.ts"
import { tinyEmbedderDir, tinyLlamaPath } from "../support/fixtures.ts"
import { runningEmbedded } from "../../core/db/embedded.ts"
import { createAdmin } from "../../core/auth/admins.ts"

let pool: PoolProc
const admin = { "x-cellule-user": "it@example.local", "content-type": "application/json" }

beforeAll(async () => {
  const [model, embedder] = await Promise.all([tinyLlamaPath(), tinyEmbedderDir()])
  const token = "keys-token-0123456789abc"
  pool = await startPool({
    env: { CELLULE_WORKER_TOKEN: token, CELLULE_ANONYMOUS_ACCESS: "false", CELLULE_TRUSTED_NETWORKS: "127.0.0.1/32" },
  })
  const sql = postgres({ ...runningEmbedded(pool.dataDir)!, max: 1 })
  await createAdmin(sql as never, "it@example.local", "a long admin password")
  await sql.end()
  await startWorker({ poolUrl: pool.url, token, models: [`tiny=${model}`], embedder })
})
afterAll(cleanupAll)

async function newKey(body: Record<string, unknown>) {
  const r = await fetch(`${pool.url}/v1/admin/keys`, { method: "POST", headers: admin, body: JSON.stringify(body) })
  expect(r.status).toBe(201)
  return (await r.json()) as { id: string; key: string; prefix: string }
}
const chat = (key: string | undefined, model = "tiny") =>
  fetch(`${pool.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body: JSON.stringify({ model, messages: [{ role: "user", content: "hi" }], max_tokens: 8 }),
  })
const code = async (r: Response) => ((await r.json()) as { error: string }).error

describe("API keys", () => {
  test("creating a key needs an administrator", async () => {
    const r = await fetch(`${pool.url}/v1/admin/keys`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "x" }),
    })
    expect(r.status).toBe(401)
  })

  test("the secret is shown once and never listed", async () => {
    const k = await newKey({ name: "secretarial team" })
    expect(k.key).toStartWith("sk-cel-")
    const list = await (await fetch(`${pool.url}/v1/admin/keys`, { headers: admin })).text()
    expect(list).toContain(k.prefix)
    expect(list).not.toContain(k.key)
  })

  test("no key → 401 api_key_required; unknown key → 401 invalid_api_key; valid key → 200", async () => {
    const k = await newKey({ name: "ok" })
    expect(await code(await chat(undefined))).toBe("api_key_required")
    const bad = await chat("sk-cel-not-a-real-key")
    expect(bad.status).toBe(401)
    expect(await code(bad)).toBe("invalid_api_key")
    expect((await chat(k.key)).status).toBe(200)
  })

  test("model allow-list → 403 model_not_allowed", async () => {
    const k = await newKey({ name: "chat only", models: ["tiny"] })
    const r = await fetch(`${pool.url}/v1/embeddings`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${k.key}` },
      body: JSON.stringify({ model: "tiny-embedder", input: "x" }),
    })
    expect(r.status).toBe(403)
    expect(await code(r)).toBe("model_not_allowed")
  })

  test("requests per minute → 429 rate_limited with Retry-After", async () => {
    const k = await newKey({ name: "rpm", rpm: 2 })
    expect((await chat(k.key)).status).toBe(200)
    expect((await chat(k.key)).status).toBe(200)
    const r = await chat(k.key)
    expect(r.status).toBe(429)
    expect(Number(r.headers.get("retry-after"))).toBeGreaterThan(0)
    expect(await code(r)).toBe("rate_limited")
  })

  test("a spent monthly budget → 429 budget_exhausted; usage is recorded per key", async () => {
    const k = await newKey({ name: "budget", monthly_token_budget: 10 })
    expect((await chat(k.key)).status).toBe(200)
    await Bun.sleep(200) // usage is recorded just after the answer
    const r = await chat(k.key)
    expect(r.status).toBe(429)
    expect(await code(r)).toBe("budget_exhausted")
    const usage = (await (await fetch(`${pool.url}/v1/admin/usage?key_id=${k.id}`, { headers: admin })).json()) as {
      data: { requests: number; completion_tokens: number; prompt_tokens: number }[]
    }
    expect(usage.data.length).toBe(1)
    expect(usage.data[0].requests).toBe(1)
    expect(usage.data[0].completion_tokens).toBe(8)
    expect(usage.data[0].prompt_tokens).toBeGreaterThan(0)
  })

  test("a revoked key stops working within 5 s", async () => {
    const k = await newKey({ name: "leaver" })
    expect((await chat(k.key)).status).toBe(200)
    const del = await fetch(`${pool.url}/v1/admin/keys/${k.id}`, {
      method: "DELETE",
      headers: { "x-cellule-user": "it@example.local" },
    })
    expect(del.status).toBe(204)
    const t0 = Date.now()
    let status = 200
    while (Date.now() - t0 < 6000 && status === 200) {
      status = (await chat(k.key)).status
      if (status === 200) await Bun.sleep(250)
    }
    expect(status).toBe(401)
  })

  test("CELLULE_ANONYMOUS_ACCESS set on the pool decides: the dashboard switch refuses to change it (409)", async () => {
    expect(await (await fetch(`${pool.url}/v1/admin/anonymous-access`, { headers: admin })).json()).toEqual({
      enabled: false,
      forced: true,
    })
    const r = await fetch(`${pool.url}/v1/admin/anonymous-access`, {
      method: "PUT",
      headers: admin,
      body: JSON.stringify({ enabled: true }),
    })
    expect(r.status).toBe(409)
    expect(await code(r)).toBe("anonymous_access_forced")
    expect(await code(await chat(undefined))).toBe("api_key_required")
    const bad = await fetch(`${pool.url}/v1/admin/anonymous-access`, {
      method: "PUT",
      headers: admin,
      body: JSON.stringify({ enabled: "yes" }),
    })
    expect(bad.status).toBe(400)
  })
})
