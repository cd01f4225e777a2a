import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { LlamaEngine, type GenerateRequest } from "../../../core/inference/llama.ts"
import { writeTinyLlama } from "../../fixtures/gguf.ts"

const ROOT = resolve(import.meta.dir, "../../..")
const CONTEXT = 256
let dir: string
let modelPath: string
let engine: LlamaEngine

const chat = (content: string, extra: Partial<GenerateRequest> = {}): GenerateRequest => ({
  messages: [{ role: "user", content }],
  temperature: 0,
  ...extra,
})

const codeOf = async (p: Promise<unknown>) =>
  p.then(
    () => "resolved",
    (e) => (e as { code?: string }).code,
  )

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "cellule-llama-"))
  modelPath = join(dir, "tiny.gguf")
  await writeTinyLlama(modelPath, { seed: 42 })
  // one thread: on a busy 2-core machine two llama.cpp threads spin against each other
  engine = await LlamaEngine.load({ modelPath, threads: 1, sequences: 2, contextSize: CONTEXT, gpu: false })
})

afterAll(async () => {
  await engine?.dispose()
  await rm(dir, { recursive: true, force: true })
})

describe("LlamaEngine", () => {
  test("info describes the model and its sequences", () => {
    expect(engine.info()).toMatchObject({
      model: "cellule-tiny-llama",
      file: modelPath,
      contextSize: CONTEXT,
      sequences: 2,
      busy: 0,
      waiting: 0,
      threads: 1,
      gpu: false,
    })
  })

  test("a chat request streams text that adds up to the result, with usage", async () => {
    const chunks: string[] = []
    const r = await engine.generate(chat("hello world", { maxTokens: 24 }), (t) => chunks.push(t))
    expect(chunks.length).toBeGreaterThan(0)
    expect(chunks.join("")).toBe(r.text)
    expect(r.text.length).toBeGreaterThan(0)
    expect(r.finishReason).toBe("length")
    expect(r.usage.completionTokens).toBe(24)
    // <s> + ChatML framing around "hello world" is well over ten tokens
    expect(r.usage.promptTokens).toBeGreaterThan(10)
  })

  test("temperature 0 gives the same text twice", async () => {
    const a = await engine.generate(chat("the answer is", { maxTokens: 32 }))
    const b = await engine.generate(chat("the answer is", { maxTokens: 32 }))
    expect(b.text).toBe(a.text)
  })

  test("the same seed gives the same sampled text", async () => {
    const req = chat("why", { maxTokens: 32, temperature: 1, seed: 7 })
    const a = await engine.generate(req)
    const b = await engine.generate(req)
    expect(b.text).toBe(a.text)
  })

  test("maxTokens ends with finishReason length", async () => {
    const r = await engine.generate(chat("one", { maxTokens: 5 }))
    expect(r).toMatchObject({ finishReason: "length", usage: { completionTokens: 5 } })
  })

  test("without maxTokens generation stops when the sequence's context is full", async () => {
    const r = await engine.generate(chat("two"))
    expect(r.finishReason).toBe("length")
    expect(r.usage.promptTokens + r.usage.completionTokens).toBe(CONTEXT)
  })

  test("a stop string ends the text just before it, with finishReason stop", async () => {
    const full = await engine.generate(chat("three", { maxTokens: 40 }))
    const stop = full.text.slice(20, 24)
    const r = await engine.generate(chat("three", { maxTokens: 40, stop: [stop] }))
    expect(r.finishReason).toBe("stop")
    expect(r.text).toBe(full.text.slice(0, full.text.indexOf(stop)))
  })

  test.each([
    ["chat", chat("count me", { maxTokens: 1 })],
    ["raw prompt", { prompt: "count me too", maxTokens: 1, temperature: 0 }],
  ] as [string, GenerateRequest][])("%s: promptTokens is exactly what llama.cpp evaluated", async (_name, req) => {
    const r = await engine.generate(req)
    // the sequence just released goes back on top of the free list; its one sampled token is not evaluated yet
    const seq = (engine as unknown as { free: { contextTokens: unknown[] }[] }).free.at(-1)!
    expect(r.usage.completionTokens).toBe(1)
    expect(seq.contextTokens.length).toBe(r.usage.promptTokens)
  })

  test("abort mid-generation ends promptly with finishReason abort and frees the sequence", async () => {
    const ac = new AbortController()
    let chunks = 0
    let abortedAt = 0
    const r = await engine.generate(chat("abort me", { maxTokens: CONTEXT, signal: ac.signal }), () => {
      if (++chunks === 3) {
        abortedAt = performance.now()
        ac.abort()
      }
    })
    expect(r.finishReason).toBe("abort")
    expect(performance.now() - abortedAt).toBeLessThan(500)
    expect(r.usage.completionTokens).toBeLessThan(20)
    expect(engine.info().busy).toBe(0)
    expect((await engine.generate(chat("after", { maxTokens: 3 }))).finishReason).toBe("length")
  })

  test("an already aborted request returns at once without a sequence", async () => {
    const r = await engine.generate(chat("never", { signal: AbortSignal.abort() }))
    expect(r).toMatchObject({ text: "", finishReason: "abort", usage: { completionTokens: 0 } })
  })

  test("two concurrent generations run side by side; a third waits for a free sequence", async () => {
    const runs = [
      engine.generate(chat("first", { maxTokens: 16 })),
      engine.generate({ prompt: "second", maxTokens: 16 }),
      engine.generate(chat("third", { maxTokens: 16 })),
    ]
    expect(engine.info()).toMatchObject({ busy: 2, waiting: 1 })
    const results = await Promise.all(runs)
    for (const r of results) expect(r.finishReason).toBe("length")
    expect(engine.info()).toMatchObject({ busy: 0, waiting: 0 })
    const alone = await engine.generate(chat("first", { maxTokens: 16 }))
    expect(results[0].text).toBe(alone.text)
  })

  test("a queued request aborted while waiting leaves the queue", async () => {
    const ac = new AbortController()
    const busy = [engine.generate(chat("a", { maxTokens: 24 })), engine.generate(chat("b", { maxTokens: 24 }))]
    const queued = engine.generate(chat("c", { maxTokens: 24, signal: ac.signal }))
    expect(engine.info().waiting).toBe(1)
    ac.abort()
    expect((await queued).finishReason).toBe("abort")
    expect(engine.info().waiting).toBe(0)
    await Promise.all(busy)
  })

  test.each([
    ["neither messages nor prompt", {}, "invalid_request"],
    ["both messages and prompt", { prompt: "x", messages: [{ role: "user", content: "x" }] }, "invalid_request"],
    ["empty messages", { messages: [] }, "invalid_request"],
    ["maxTokens 0", { prompt: "x", maxTokens: 0 }, "invalid_request"],
    ["a prompt longer than the context", { prompt: "hello ".repeat(CONTEXT) }, "context_length_exceeded"],
  ] as [string, GenerateRequest, string][])("%s is rejected", async (_name, req, code) => {
    expect(await codeOf(engine.generate(req))).toBe(code)
  })

  test("an error thrown by onToken stops the generation and is rethrown", async () => {
    const boom = Object.assign(new Error("client gone"), { code: "client_gone" })
    expect(
      await codeOf(
        engine.generate(chat("x", { maxTokens: 50 }), () => {
          throw boom
        }),
      ),
    ).toBe("client_gone")
    expect(engine.info().busy).toBe(0)
  })

  test("a context larger than the model was trained on is capped to its training context", async () => {
    const big = await LlamaEngine.load({ modelPath, threads: 1, sequences: 1, contextSize: 1_000_000, gpu: false })
    try {
      expect(big.info().contextSize).toBe(2048)
    } finally {
      await big.dispose()
    }
  })

  test("a missing model file fails with model_load_failed", async () => {
    expect(
      await codeOf(LlamaEngine.load({ modelPath: join(dir, "missing.gguf"), threads: 1, sequences: 1, gpu: false })),
    ).toBe("model_load_failed")
  })
})

describe("LlamaEngine.dispose", () => {
  test("stops running work, rejects new requests, and is idempotent", async () => {
    const own = await LlamaEngine.load({ modelPath, threads: 1, sequences: 1, contextSize: CONTEXT, gpu: false })
    // dispose from the first token's callback: a fixed sleep let the whole generation end first on a busy machine
    let disposing: Promise<unknown> | undefined
    const running = own.generate(chat("long", { maxTokens: CONTEXT }), () => {
      disposing ??= Promise.all([own.dispose(), own.dispose()])
    })
    const queued = codeOf(own.generate(chat("queued")))
    const result = await running
    expect(disposing).toBeDefined()
    await disposing
    expect(result.usage.completionTokens).toBeLessThan(CONTEXT - 20)
    expect(result.finishReason).toBe("abort")
    expect(await queued).toBe("engine_disposed")
    expect(await codeOf(own.generate(chat("late")))).toBe("engine_disposed")
  })

  test("the process exits on its own after dispose", async () => {
    const script = `
      import { LlamaEngine } from ${JSON.stringify(join(ROOT, "core/inference/llama.ts"))}
      const e = await LlamaEngine.load({ modelPath: ${JSON.stringify(modelPath)}, threads: 2, sequences: 2, gpu: false })
      const r = await e.generate({ messages: [{ role: "user", content: "hi" }], maxTokens: 4 })
      await e.dispose()
      console.log("done", r.usage.completionTokens)`
    const proc = Bun.spawn([join(ROOT, "node_modules/.bin/bun"), "-e", script], {
      stdout: "pipe",
      stderr: "pipe",
      cwd: dir,
    })
    const timer = setTimeout(() => proc.kill(9), 20_000)
    const code = await proc.exited
    clearTimeout(timer)
    expect(await new Response(proc.stdout).text()).toBe("done 4\n")
    expect(code).toBe(0)
  })
})
