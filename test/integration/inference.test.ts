// Trunk 2 end to end: real pool and worker processes, real llama.cpp, the official openai client.
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import OpenAI from "openai"
import {
  ADMIN_FROM_LOOPBACK,
  cleanupAll,
  startPool,
  startWorker,
  workerDetails,
  type PoolProc,
  type WorkerProc,
} from "../support/proc.ts"
import { tinyEmbedderDir, tinyLlamaPath } from "../support/fixtures.ts"

const TOKEN = "test-join-token-0123456789"
let pool: PoolProc
let _w1: WorkerProc
let _w2: WorkerProc
let client: OpenAI

type Snapshot = {
  workers: {
    id: string
    name: string
    models: { id: string; slots: number; busy: number; peak_busy: number; jobs_done: number }[]
  }[]
  queue_depth: number
}
const snapshot = (url = pool.url) => workerDetails<Snapshot>(url)

beforeAll(async () => {
  const [model, embedder] = await Promise.all([tinyLlamaPath(), tinyEmbedderDir()])
  pool = await startPool({
    env: { CELLULE_WORKER_TOKEN: TOKEN, MAX_QUEUE: "32", CELLULE_HEARTBEAT_MS: "1000", ...ADMIN_FROM_LOOPBACK },
  })
  ;[_w1, _w2] = await Promise.all([
    startWorker({ poolUrl: pool.url, token: TOKEN, models: [`tiny=${model}`], embedder, slots: 2 }),
    startWorker({ poolUrl: pool.url, token: TOKEN, models: [`tiny=${model}`], slots: 2 }),
  ])
  client = new OpenAI({ baseURL: `${pool.url}/v1`, apiKey: "unused", maxRetries: 0 })
})
afterAll(cleanupAll)

describe("OpenAI API through the official client", () => {
  test("lists the served models", async () => {
    const ids = (await client.models.list()).data.map((m) => m.id).sort()
    expect(ids).toEqual(["tiny", "tiny-embedder"])
  })

  test("streamed chat reassembles to the non-streamed answer for the same seed at temperature 0", async () => {
    const req = {
      model: "tiny",
      messages: [{ role: "user" as const, content: "hello" }],
      max_tokens: 24,
      temperature: 0,
      seed: 7,
    }
    const full = await client.chat.completions.create(req)
    expect(full.object).toBe("chat.completion")
    expect(full.id).toMatch(/^chatcmpl-/)
    expect(typeof full.created).toBe("number")
    expect(full.choices[0].finish_reason).toBe("length")
    expect(full.usage!.completion_tokens).toBe(24)
    expect(full.usage!.prompt_tokens).toBeGreaterThan(0)
    expect(full.usage!.total_tokens).toBe(full.usage!.prompt_tokens + 24)
    const text = full.choices[0].message.content!
    expect(text.length).toBeGreaterThan(0)

    const stream = await client.chat.completions.create({
      ...req,
      stream: true,
      stream_options: { include_usage: true },
    })
    let joined = ""
    let finish: string | null = null
    let usage: OpenAI.CompletionUsage | undefined
    const ids = new Set<string>()
    for await (const chunk of stream) {
      ids.add(chunk.id)
      if (chunk.usage) usage = chunk.usage
      for (const c of chunk.choices) {
        joined += c.delta.content ?? ""
        finish = c.finish_reason ?? finish
      }
    }
    expect(ids.size).toBe(1)
    expect(joined).toBe(text)
    expect(finish).toBe("length")
    expect(usage!.completion_tokens).toBe(24)
  })

  test("a stop string ends the answer with finish_reason stop", async () => {
    const base = await client.chat.completions.create({
      model: "tiny",
      messages: [{ role: "user", content: "stop test" }],
      max_tokens: 30,
      temperature: 0,
    })
    const text = base.choices[0].message.content!
    const stop = text.slice(6, 8)
    const r = await client.chat.completions.create({
      model: "tiny",
      messages: [{ role: "user", content: "stop test" }],
      max_tokens: 30,
      temperature: 0,
      stop: [stop],
    })
    expect(r.choices[0].finish_reason).toBe("stop")
    expect(r.choices[0].message.content).toBe(text.slice(0, text.indexOf(stop)))
  })

  test("text completion, streamed and not", async () => {
    const r = await client.completions.create({ model: "tiny", prompt: "The cat", max_tokens: 10, temperature: 0 })
    expect(r.object).toBe("text_completion")
    expect(r.choices[0].text.length).toBeGreaterThan(0)
    expect(r.usage!.completion_tokens).toBe(10)
    let joined = ""
    for await (const c of await client.completions.create({
      model: "tiny",
      prompt: "The cat",
      max_tokens: 10,
      temperature: 0,
      stream: true,
    }))
      joined += c.choices[0]?.text ?? ""
    expect(joined).toBe(r.choices[0].text)
  })

  test("embeddings: 384 numbers, unit norm, same text gives the same vector", async () => {
    const r = await client.embeddings.create({ model: "tiny-embedder", input: ["the cat", "le chien", "the cat"] })
    expect(r.data.length).toBe(3)
    for (const d of r.data) {
      expect(d.embedding.length).toBe(384)
      const norm = Math.hypot(...d.embedding)
      expect(Math.abs(norm - 1)).toBeLessThan(1e-4)
    }
    expect(r.data[0].embedding).toEqual(r.data[2].embedding)
    expect(r.data[0].embedding).not.toEqual(r.data[1].embedding)
    // Usage is the embedder's tokenizer count ([CLS] the cat [SEP] = 4 each), not the 6 words.
    const { AutoTokenizer } = await import("@huggingface/transformers")
    const tokenizer = await AutoTokenizer.from_pretrained(await tinyEmbedderDir(), { local_files_only: true })
    const tokens = ["the cat", "le chien", "the cat"].reduce((n, t) => n + tokenizer.encode(t).length, 0)
    expect(tokens).toBe(12)
    expect(r.usage.prompt_tokens).toBe(tokens)
    expect(r.usage.total_tokens).toBe(tokens)
    const single = await client.embeddings.create({
      model: "tiny-embedder",
      input: "the cat",
      encoding_format: "float",
    })
    expect(single.data[0].embedding.length).toBe(384)
    for (let i = 0; i < 384; i++) expect(single.data[0].embedding[i]).toBeCloseTo(r.data[0].embedding[i], 5)
  })

  test.each([
    ["unknown model", { model: "nope", messages: [{ role: "user", content: "x" }] }, 404, "model_not_found"],
    ["missing messages", { model: "tiny" }, 400, "validation_failed"],
    [
      "temperature out of range",
      { model: "tiny", messages: [{ role: "user", content: "x" }], temperature: 9 },
      400,
      "validation_failed",
    ],
  ])("%s → %d %s", async (_n, body, status, code) => {
    const r = await fetch(`${pool.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    })
    expect(r.status).toBe(status)
    expect(((await r.json()) as { error: string }).error).toBe(code)
  })

  test("a worker with a wrong token is refused with 401", async () => {
    const r = await fetch(`${pool.url}/ws`, {
      headers: {
        upgrade: "websocket",
        connection: "upgrade",
        "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
        "sec-websocket-version": "13",
        authorization: "Bearer wrong",
      },
    })
    expect(r.status).toBe(401)
    expect(((await r.json()) as { error: string }).error).toBe("worker_token_invalid")
  })
})

describe("scheduling", () => {
  test("8 concurrent streamed requests on two workers: all succeed, both used, slots never exceeded", async () => {
    const before = await snapshot()
    const doneBefore = new Map(before.workers.map((w) => [w.id, w.models.find((m) => m.id === "tiny")!.jobs_done]))
    const results = await Promise.all(
      Array.from({ length: 8 }, async (_, i) => {
        let text = ""
        for await (const c of await client.chat.completions.create({
          model: "tiny",
          messages: [{ role: "user", content: `q${i}` }],
          max_tokens: 16,
          stream: true,
        }))
          text += c.choices[0]?.delta.content ?? ""
        return text
      }),
    )
    expect(results.every((t) => t.length > 0)).toBe(true)
    const after = await snapshot()
    expect(after.workers.length).toBe(2)
    for (const w of after.workers) {
      const m = w.models.find((m) => m.id === "tiny")!
      expect(m.jobs_done - (doneBefore.get(w.id) ?? 0)).toBeGreaterThan(0)
      expect(m.peak_busy).toBeLessThanOrEqual(m.slots)
      expect(m.busy).toBe(0)
    }
  })

  test("a client that disconnects mid-stream frees the worker's slot within 1 s", async () => {
    const ac = new AbortController()
    const stream = await client.chat.completions.create(
      { model: "tiny", messages: [{ role: "user", content: "long" }], max_tokens: 900, stream: true },
      { signal: ac.signal },
    )
    let chunks = 0
    try {
      for await (const _ of stream) if (++chunks === 3) break
    } catch {}
    ac.abort()
    const t0 = Date.now()
    let busy = 1
    while (Date.now() - t0 < 3000) {
      busy = (await snapshot()).workers.reduce((n, w) => n + w.models.reduce((k, m) => k + m.busy, 0), 0)
      if (busy === 0) break
      await Bun.sleep(20)
    }
    expect(busy).toBe(0)
    expect(Date.now() - t0).toBeLessThan(1000)
  })
})
