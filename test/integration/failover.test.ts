// Lossless mid-stream failover: a worker SIGKILLed while streaming; the client's stream continues
// on another worker, without an error event or a duplicated token.
import { afterAll, expect, test } from "bun:test"
import OpenAI from "openai"
import {
  ADMIN_FROM_LOOPBACK,
  cleanupAll,
  startPool,
  startWorker,
  workerDetails,
  type WorkerProc,
} from "../support/proc.ts"
import { tinyLlamaPath } from "../support/fixtures.ts"

afterAll(cleanupAll)

test("worker SIGKILLed mid-stream: the stream completes, continuous, same text as an uninterrupted run", async () => {
  const model = await tinyLlamaPath()
  const token = "failover-token-0123456789"
  const pool = await startPool({ env: { CELLULE_WORKER_TOKEN: token, ...ADMIN_FROM_LOOPBACK } })
  const workers: WorkerProc[] = await Promise.all(
    [0, 1].map(() => startWorker({ poolUrl: pool.url, token, models: [`tiny=${model}`], slots: 1 })),
  )
  const client = new OpenAI({ baseURL: `${pool.url}/v1`, apiKey: "x", maxRetries: 0 })
  const req = {
    model: "tiny",
    messages: [{ role: "user" as const, content: "tell me a long story" }],
    max_tokens: 900,
    temperature: 0,
    seed: 3,
  }

  const reference = (await client.chat.completions.create(req)).choices[0].message.content!

  const snapshot = () => workerDetails<{ workers: { id: string; models: { busy: number }[] }[] }>(pool.url)
  let text = ""
  let chunks = 0
  let killedAt = -1
  let finish: string | null = null
  let usage: OpenAI.CompletionUsage | undefined
  const stream = await client.chat.completions.create({ ...req, stream: true, stream_options: { include_usage: true } })
  for await (const c of stream) {
    text += c.choices[0]?.delta.content ?? ""
    finish = c.choices[0]?.finish_reason ?? finish
    if (c.usage) usage = c.usage
    if (++chunks === 3 && killedAt < 0) {
      // Kill whichever worker is serving this stream, right now.
      const busy = (await snapshot()).workers.find((w) => w.models[0].busy > 0)!
      const ids = await Promise.all(
        workers.map(async (w) => JSON.parse(await Bun.file(`${w.dataDir}/worker.json`).text()).worker_id as string),
      )
      expect(ids).toContain(busy.id)
      workers[ids.indexOf(busy.id)].proc.kill("SIGKILL")
      killedAt = text.length
    }
  }
  expect(killedAt).toBeGreaterThan(0)
  expect(finish).toBe("length")
  // The kill happened before the answer was complete, and nothing was lost or repeated.
  expect(killedAt).toBeLessThan(text.length)
  expect(text).toBe(reference)
  expect(usage!.completion_tokens).toBeGreaterThanOrEqual(900)
  expect((await snapshot()).workers.length).toBe(1)
})
