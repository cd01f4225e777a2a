// Issue 18 with real processes: the §4.9 guidance settings change the answer (think strip, preamble
// filter, SYSTEM_PROMPT), the model probe flags a model that thinks and passes a plain one (forged
// GGUFs that answer a fixed text, test/fixtures/gguf.ts writeScriptedLlama) and gates assignment, and
// model "auto" routes a greeting and a code question to different tiers (smart routing, on the worker's
// embedder). One pool, one worker serving three scripted models and the tiny embedder.
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { mkdirSync } from "node:fs"
import { join } from "node:path"
import { CHATML_TEMPLATE, writeScriptedLlama } from "../fixtures/gguf.ts"
import { tinyEmbedderDir } from "../support/fixtures.ts"
import { cleanupAll, startPool, startWorker, tempDir, type PoolProc } from "../support/proc.ts"
import { until } from "../support/until.ts"

const TOKEN = "model-guidance-token-0123456789"
const ADMIN = { "x-cellule-user": "admin@test.local", "content-type": "application/json" }
const ANSWER = "Hello! How can I help you today?"
const THINK = ["<think>", "The user greets me.", "</think>", `\n\n${ANSWER}`]
const PREAMBLE = ["1. **Analyze the Request:** a greeting.\n", "2. **Draft Response:** Hello!\n\n", ANSWER]
// A Qwen-style template that opens a think block in the generation prompt (node-llama-cpp resolves it
// to its ChatML wrapper; the think tags the probe sees are the ones the model writes).
const THINK_TEMPLATE = CHATML_TEMPLATE.replace("'<|im_start|>assistant\\n'", "'<|im_start|>assistant\\n<think>\\n'")
let pool: PoolProc

const call = async (method: string, path: string, body?: unknown) => {
  const res = await fetch(`${pool.url}${path}`, {
    method,
    headers: body === undefined ? { "x-cellule-user": ADMIN["x-cellule-user"] } : ADMIN,
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  return { status: res.status, body: (await res.json()) as any }
}
const setting = async (key: string, value: unknown) => {
  const r = await call("PUT", `/v1/admin/settings/${key}`, { value })
  expect(r.status).toBe(200)
}
const chat = async (model: string, extra: Record<string, unknown> = {}) => {
  const r = await call("POST", "/v1/chat/completions", {
    model,
    messages: [{ role: "user", content: "hello" }],
    max_tokens: 16,
    ...extra,
  })
  expect(r.status).toBe(200)
  return r.body as { model: string; choices: { message: { content: string } }[]; usage: { prompt_tokens: number } }
}
const streamed = async (model: string) => {
  const res = await fetch(`${pool.url}/v1/chat/completions`, {
    method: "POST",
    headers: ADMIN,
    body: JSON.stringify({ model, messages: [{ role: "user", content: "hello" }], max_tokens: 16, stream: true }),
  })
  expect(res.status).toBe(200)
  let text = ""
  for (const line of (await res.text()).split("\n")) {
    if (!line.startsWith("data: {")) continue
    text += JSON.parse(line.slice(6)).choices?.[0]?.delta?.content ?? ""
  }
  return text
}

beforeAll(async () => {
  const dataDir = tempDir()
  const store = join(dataDir, "models")
  mkdirSync(store, { recursive: true })
  await writeScriptedLlama(join(store, "plain.gguf"), { script: [ANSWER] })
  await writeScriptedLlama(join(store, "think.gguf"), { script: THINK, chatTemplate: THINK_TEMPLATE })
  await writeScriptedLlama(join(store, "pre.gguf"), { script: PREAMBLE })
  pool = await startPool({
    dataDir,
    env: { CELLULE_WORKER_TOKEN: TOKEN, CELLULE_TRUSTED_NETWORKS: "127.0.0.1/32", CELLULE_MODEL_STORE: store },
  })
  await startWorker({
    poolUrl: pool.url,
    token: TOKEN,
    slots: 1,
    models: ["plain", "think", "pre"].map((m) => join(store, `${m}.gguf`)),
    embedder: await tinyEmbedderDir(),
  })
}, 240_000)
afterAll(cleanupAll)

describe("guidance settings change the answer", () => {
  test("think strip: on by default, streamed or not; off shows the block", async () => {
    expect((await chat("think")).choices[0]!.message.content).toBe(ANSWER)
    expect(await streamed("think")).toBe(ANSWER)
    await setting("guidance.think_strip", false)
    await until("the think block to show", async () =>
      (await chat("think")).choices[0]!.message.content.includes("<think>The user greets me.</think>"),
    )
    expect(await streamed("think")).toBe(THINK.join(""))
    await setting("guidance.think_strip", true)
    await until("the strip to be back", async () => (await chat("think")).choices[0]!.message.content === ANSWER)
  }, 60_000)

  test("preamble filter: on by default, streamed or not; off shows the numbered analysis", async () => {
    expect((await chat("pre")).choices[0]!.message.content).toBe(ANSWER)
    expect(await streamed("pre")).toBe(ANSWER)
    await setting("guidance.preamble_filter", false)
    await until(
      "the preamble to show",
      async () => (await chat("pre")).choices[0]!.message.content === PREAMBLE.join(""),
    )
    expect(await streamed("pre")).toBe(PREAMBLE.join(""))
    await setting("guidance.preamble_filter", true)
    await until("the filter to be back", async () => (await chat("pre")).choices[0]!.message.content === ANSWER)
  }, 60_000)

  test("SYSTEM_PROMPT reaches the model when the request has no system message; per model override", async () => {
    const bare = (await chat("plain")).usage.prompt_tokens
    const own = (
      await chat("plain", {
        messages: [
          { role: "system", content: "be brief" },
          { role: "user", content: "hello" },
        ],
      })
    ).usage.prompt_tokens
    await setting("guidance.system_prompt", "Answer directly, without any analysis or numbered steps.")
    const { value: withPrompt } = await until("the system prompt to reach the model", async () => {
      const n = (await chat("plain")).usage.prompt_tokens
      return n > bare + 5 && n
    })
    // a request with its own system message keeps it alone
    const ownAgain = (
      await chat("plain", {
        messages: [
          { role: "system", content: "be brief" },
          { role: "user", content: "hello" },
        ],
      })
    ).usage.prompt_tokens
    expect(ownAgain).toBe(own)
    // an empty per-model SYSTEM_PROMPT turns it off for that model only
    await setting("guidance.system_prompt.plain", "")
    await until("the per-model override", async () => (await chat("plain")).usage.prompt_tokens === bare)
    expect((await chat("think")).usage.prompt_tokens).toBeGreaterThan(bare)
    expect(withPrompt).toBeGreaterThan(bare)
    await setting("guidance.system_prompt", "")
  }, 60_000)
})

describe("model probe", () => {
  const finished = async (file: string) =>
    (
      await until(
        `the probe of ${file}`,
        async () => {
          const r = await call("GET", `/v1/admin/models/${file}/probe`)
          return r.status === 200 && r.body.status !== "running" && r.body
        },
        60_000,
      )
    ).value

  test("flags the model whose template and answers think, passes the plain one, gates assignment", async () => {
    expect((await call("PUT", "/v1/admin/models/classes/cpu-mid", { file_name: "think.gguf" })).body.error).toBe(
      "model_not_probed",
    )
    expect((await call("GET", "/v1/admin/models/think.gguf/probe")).status).toBe(404)

    const started = await call("POST", "/v1/admin/models/think.gguf/probe")
    expect(started.status).toBe(202)
    expect(started.body.status).toBe("running")
    const think = await finished("think.gguf")
    expect(think.status).toBe("flagged")
    expect(think.flags).toContain("think_tags")
    expect(think.answers.map((a: { id: string }) => a.id)).toEqual(["greeting", "email", "summary"])
    for (const a of think.answers) expect(a.answer).toBe(THINK.join(""))
    expect(think.assignable).toBe(false)

    expect((await call("POST", "/v1/admin/models/plain.gguf/probe")).status).toBe(202)
    const plain = await finished("plain.gguf")
    expect(plain.status).toBe("passed")
    expect(plain.flags).toEqual([])
    expect(plain.answers[0].answer).toBe(ANSWER)

    expect((await call("POST", "/v1/admin/models/pre.gguf/probe")).status).toBe(202)
    expect((await finished("pre.gguf")).flags).toEqual(["numbered_preamble"])

    const refused = await call("PUT", "/v1/admin/models/classes/cpu-mid", { file_name: "think.gguf" })
    expect(refused.status).toBe(409)
    expect(refused.body.error).toBe("model_probe_flagged")
    expect((await call("PUT", "/v1/admin/models/classes/cpu-mid", { file_name: "plain.gguf" })).status).toBe(200)

    const accepted = await call("POST", "/v1/admin/models/think.gguf/probe/accept")
    expect(accepted.status).toBe(200)
    expect(accepted.body).toMatchObject({ accepted_by: "admin@test.local", assignable: true })
    expect((await call("PUT", "/v1/admin/models/classes/gpu-small", { file_name: "think.gguf" })).status).toBe(200)
    const audit = await call("GET", "/v1/admin/audit?action=model.probe_accept")
    expect(JSON.stringify(audit.body)).toContain("model:think.gguf")

    // the worker is back in service after the probes
    expect((await chat("plain")).choices[0]!.message.content).toBe(ANSWER)
    // a file that is not in the store
    expect((await call("POST", "/v1/admin/models/missing.gguf/probe")).status).toBe(404)
  }, 120_000)
})

describe('model "auto"', () => {
  test("routes a greeting and a code question to different tiers (the catalogue's tier models), names the model, counts it", async () => {
    // The tiny embedder is a bag of words, not semantic: each tier's prototype holds the test's key words.
    await setting("smart_routing.prototypes.fast", "hello world bonjour")
    await setting("smart_routing.prototypes.code", "search query file data server")
    await setting("smart_routing.prototypes.reasoning", "why how question answer")
    // Each tier's model is the catalogue's tier assignment (the Models page, PUT /v1/admin/models/tiers/…).
    for (const [tier, file] of [
      ["fast", "plain.gguf"],
      ["code", "pre.gguf"],
      ["reasoning", "think.gguf"],
    ])
      expect((await call("PUT", `/v1/admin/models/tiers/${tier}`, { file_name: file })).status).toBe(200)
    // The setting only fills a tier the catalogue leaves empty: here it loses to the catalogue.
    await setting("smart_routing.model.code", "plain")
    const ask = (content: string) => chat("auto", { messages: [{ role: "user", content }] })
    const { value: greeting } = await until("auto to route", async () => {
      const r = await call("POST", "/v1/chat/completions", {
        model: "auto",
        messages: [{ role: "user", content: "hello world" }],
        max_tokens: 16,
      })
      return r.status === 200 && r.body.model === "plain" && r.body
    })
    expect(greeting.choices[0].message.content).toBe(ANSWER)
    const code = await ask("search the query in the data file on the server")
    expect(code.model).toBe("pre")
    const metrics = await (await fetch(`${pool.url}/metrics`, { headers: ADMIN })).text()
    expect(metrics).toMatch(/cellule_smart_routing_total\{tier="fast",model="plain"\} [1-9]/)
    expect(metrics).toMatch(/cellule_smart_routing_total\{tier="code",model="pre"\} 1/)
    expect(pool.stderr()).toMatch(/cellule\.smart_routing.*auto → code \(pre\)/)
  }, 60_000)
})
