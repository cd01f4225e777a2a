// Scheduler behaviour with real processes: overflow, dead workers, no workers.
import { afterEach, describe, expect, test } from "bun:test"
import { cleanupAll, startPool, startWorker } from "../support/proc.ts"
import { tinyLlamaPath } from "../support/fixtures.ts"

const TOKEN = "sched-token-abcdefghijkl"
afterEach(cleanupAll)

// The public GET /v1/workers: counts by activity and per model, never a worker's id.
type Snapshot = {
  workers: number
  activity: Record<"available" | "throttled" | "busy", number>
  models: { id: string; busy: number; jobs_done: number }[]
  queue_depth: number
}
const snapshot = async (url: string) => (await (await fetch(`${url}/v1/workers`)).json()) as Snapshot
const chat = (url: string, content: string, max_tokens: number, signal?: AbortSignal) =>
  fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "tiny", messages: [{ role: "user", content }], max_tokens }),
    signal,
  })

async function until(cond: () => Promise<boolean>, ms = 10_000) {
  const t0 = Date.now()
  while (!(await cond())) {
    if (Date.now() - t0 > ms) throw new Error("condition not met in time")
    await Bun.sleep(10)
  }
}

describe("scheduler with real workers", () => {
  test("a full queue answers 429 queue_full with Retry-After", async () => {
    const model = await tinyLlamaPath()
    const pool = await startPool({ env: { CELLULE_WORKER_TOKEN: TOKEN, MAX_QUEUE: "1" } })
    await startWorker({ poolUrl: pool.url, token: TOKEN, models: [`tiny=${model}`], slots: 1 })
    const ac = new AbortController()
    const running = chat(pool.url, "one", 1000, ac.signal).catch(() => {})
    await until(async () => (await snapshot(pool.url)).models[0]?.busy === 1)
    const queued = chat(pool.url, "two", 1000, ac.signal).catch(() => {})
    await until(async () => (await snapshot(pool.url)).queue_depth === 1)
    const r = await chat(pool.url, "three", 5)
    expect(r.status).toBe(429)
    expect(Number(r.headers.get("retry-after"))).toBeGreaterThanOrEqual(1)
    expect(((await r.json()) as { error: string }).error).toBe("queue_full")
    ac.abort()
    await Promise.all([running, queued])
  })

  test("SIGKILL of a worker with jobs queued: every job completes on the other worker; then 503 with none left", async () => {
    const model = await tinyLlamaPath()
    const pool = await startPool({ env: { CELLULE_WORKER_TOKEN: TOKEN, MAX_QUEUE: "32" } })
    const a = await startWorker({ poolUrl: pool.url, token: TOKEN, models: [`tiny=${model}`], slots: 1 })
    const b = await startWorker({ poolUrl: pool.url, token: TOKEN, models: [`tiny=${model}`], slots: 1 })
    const jobs = Array.from({ length: 6 }, (_, i) => chat(pool.url, `job ${i}`, 300))
    await until(async () => (await snapshot(pool.url)).queue_depth >= 2)
    a.proc.kill("SIGKILL")
    const results = await Promise.all(jobs)
    const bodies = await Promise.all(
      results.map((r) => r.json() as Promise<{ usage?: { completion_tokens: number }; error?: string }>),
    )
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200])
    for (const body of bodies) expect(body.usage!.completion_tokens).toBe(300)
    const snap = await snapshot(pool.url)
    expect(snap.workers).toBe(1)

    b.proc.kill("SIGKILL")
    await until(async () => (await snapshot(pool.url)).workers === 0)
    const none = await chat(pool.url, "anyone?", 5)
    expect(none.status).toBe(503)
    expect(((await none.json()) as { error: string }).error).toBe("no_worker_available")
  })

  test("SIGTERM on the pool lets an in-flight answer finish before exiting", async () => {
    const model = await tinyLlamaPath()
    const pool = await startPool({ env: { CELLULE_WORKER_TOKEN: TOKEN } })
    await startWorker({ poolUrl: pool.url, token: TOKEN, models: [`tiny=${model}`], slots: 1 })
    const inflight = chat(pool.url, "finish me", 400)
    await until(async () => (await snapshot(pool.url)).models[0]?.busy === 1)
    pool.proc.kill("SIGTERM")
    const r = await inflight
    expect(r.status).toBe(200)
    expect(((await r.json()) as { usage: { completion_tokens: number } }).usage.completion_tokens).toBe(400)
    expect(await pool.exited).toBe(0)
  })
})
