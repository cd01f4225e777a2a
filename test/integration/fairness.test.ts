// Fair queuing with real processes: one client flooding batch requests does not slow another
// client's interactive requests beyond 2× their unloaded latency (p95).
import { afterAll, expect, test } from "bun:test"
import { cleanupAll, startPool, startWorker } from "../support/proc.ts"
import { tinyLlamaPath } from "../support/fixtures.ts"

afterAll(cleanupAll)

const p95 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.ceil(0.95 * xs.length) - 1]

test("200 batch requests from one client leave another client's interactive p95 within 2×", async () => {
  const model = await tinyLlamaPath()
  const token = "fair-token-0123456789abc"
  const pool = await startPool({ env: { CELLULE_WORKER_TOKEN: token, MAX_QUEUE: "400" } })
  await Promise.all([0, 1].map(() => startWorker({ poolUrl: pool.url, token, models: [`tiny=${model}`], slots: 2 })))
  const ask = (key: string, priority: "interactive" | "batch", n: number) =>
    fetch(`${pool.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${key}`, "x-cellule-priority": priority },
      body: JSON.stringify({ model: "tiny", messages: [{ role: "user", content: `question ${n}` }], max_tokens: 48 }),
    }).then(async (r) => {
      expect(r.status).toBe(200)
      await r.json()
    })
  const interactive = async (rounds: number) => {
    const times: number[] = []
    for (let i = 0; i < rounds; i++) {
      const t0 = performance.now()
      await ask("alice-key", "interactive", i)
      times.push(performance.now() - t0)
    }
    return times
  }

  await interactive(3) // warm-up
  const unloaded = await interactive(20)
  let flooding = true
  const flood = Promise.all(Array.from({ length: 200 }, (_, i) => ask("batch-script-key", "batch", i))).finally(
    () => (flooding = false),
  )
  await Bun.sleep(100)
  const loaded = await interactive(20)
  const stillFlooding = flooding
  await flood
  const ratio = p95(loaded) / p95(unloaded)
  console.log(
    `interactive p95 unloaded ${p95(unloaded).toFixed(1)} ms, during flood ${p95(loaded).toFixed(1)} ms, ratio ${ratio.toFixed(2)}`,
  )
  // The measurement only means something if the flood was still queued while we measured.
  expect(stillFlooding).toBe(true)
  expect(ratio).toBeLessThanOrEqual(2)
})
