// The shipped artefact: dist/cellule runs pool and worker (llama.cpp and onnxruntime unpacked from
// the binary into the data dir) and serves a streamed answer, from an unrelated working directory.
import { afterAll, expect, test } from "bun:test"
import OpenAI from "openai"
import { existsSync, readdirSync } from "node:fs"
import { join } from "node:path"
import { cleanupAll, startPool, startWorker, tempDir } from "../support/proc.ts"
import { tinyEmbedderDir, tinyLlamaPath } from "../support/fixtures.ts"

afterAll(cleanupAll)

test("compiled pool + compiled worker serve a streamed chat answer and embeddings", async () => {
  const [model, embedder] = await Promise.all([tinyLlamaPath(), tinyEmbedderDir()])
  const token = "compiled-token-0123456789"
  const cwd = tempDir()
  const pool = await startPool({ compiled: true, cwd, env: { CELLULE_WORKER_TOKEN: token } })
  const worker = await startWorker({ compiled: true, poolUrl: pool.url, token, models: [`tiny=${model}`], embedder })
  // The native libraries came out of the binary, not from node_modules.
  const native = join(worker.dataDir, "cache", "native")
  expect(existsSync(native)).toBe(true)
  expect(readdirSync(native).length).toBeGreaterThan(0)

  const client = new OpenAI({ baseURL: `${pool.url}/v1`, apiKey: "x", maxRetries: 0 })
  let text = ""
  let finish: string | null = null
  for await (const c of await client.chat.completions.create({
    model: "tiny",
    messages: [{ role: "user", content: "hi" }],
    max_tokens: 12,
    stream: true,
  })) {
    text += c.choices[0]?.delta.content ?? ""
    finish = c.choices[0]?.finish_reason ?? finish
  }
  expect(text.length).toBeGreaterThan(0)
  expect(finish).toBe("length")
  const e = await client.embeddings.create({ model: "tiny-embedder", input: "compiled" })
  expect(e.data[0].embedding.length).toBe(384)
})
