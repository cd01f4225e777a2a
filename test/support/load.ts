// Test support: load generators against an OpenAI-compatible entry (a pool, `cellule proxy`, nginx):
// light GETs for added latency, chat completions (half streamed) that tell a cut stream from a failure.
// Used by test/integration/proxy.test.ts and bench/entry.ts.

export function percentile(xs: number[], p: number): number {
  if (!xs.length) return NaN
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

/** Run `total` tasks with at most `concurrency` at once. */
async function pooled(total: number, concurrency: number, task: (i: number) => Promise<void>) {
  let next = 0
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) await task(next++)
    }),
  )
}

export interface LightResult {
  latencies: number[]
  failed: number
  rps: number
}

/**
 * The entry against direct-to-pool, interleaved in chunks (direct, entry, direct, entry, …) so that a
 * noisy second on this shared machine lands on both sides instead of on one of them.
 */
export async function pairedLightLoad(
  directUrl: string,
  entryUrl: string,
  total: number,
  concurrency: number,
  chunk = 250,
) {
  const direct: LightResult = { latencies: [], failed: 0, rps: 0 }
  const entry: LightResult = { latencies: [], failed: 0, rps: 0 }
  const rps: { direct: number[]; entry: number[] } = { direct: [], entry: [] }
  for (let done = 0, i = 0; done < total; done += chunk, i++) {
    const n = Math.min(chunk, total - done)
    for (const side of i % 2 ? (["entry", "direct"] as const) : (["direct", "entry"] as const)) {
      const r = await lightLoad(side === "direct" ? directUrl : entryUrl, n, concurrency)
      const into = side === "direct" ? direct : entry
      into.latencies.push(...r.latencies)
      into.failed += r.failed
      rps[side].push(r.rps)
    }
  }
  direct.rps = median(rps.direct)
  entry.rps = median(rps.entry)
  return { direct, entry }
}

/** GET /v1/models `total` times: what the entry itself costs, generation aside. */
export async function lightLoad(url: string, total: number, concurrency: number): Promise<LightResult> {
  const latencies: number[] = []
  let failed = 0
  const t0 = performance.now()
  await pooled(total, concurrency, async () => {
    const s = performance.now()
    try {
      const res = await fetch(`${url}/v1/models`)
      await res.arrayBuffer()
      if (res.ok) latencies.push(performance.now() - s)
      else failed++
    } catch {
      failed++
    }
  })
  return { latencies, failed, rps: (total / (performance.now() - t0)) * 1000 }
}

export type Outcome = "ok" | "failed" | "cut"

export interface ChatResult {
  ok: number
  /** Requests that got no usable answer and whose stream (if any) never started. */
  failed: number
  /** Streams that had started (status 200 and bytes received) and were cut before [DONE]. */
  cut: number
  failures: string[]
  latencies: number[]
  wallMs: number
}

/** One chat completion; even requests stream. A cut stream is told apart from a request that failed. */
export async function chatOnce(url: string, i: number, maxTokens: number): Promise<{ outcome: Outcome; why?: string }> {
  const stream = i % 2 === 0
  let res: Response
  try {
    res = await fetch(`${url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        model: "tiny",
        messages: [{ role: "user", content: `request ${i}: say something` }],
        max_tokens: maxTokens,
        stream,
        seed: i,
      }),
    })
  } catch (e) {
    return { outcome: "failed", why: `#${i} ${stream ? "stream" : "plain"}: ${(e as Error).message}` }
  }
  if (!stream) {
    const text = await res.text().catch((e) => `read error ${(e as Error).message}`)
    if (res.status === 200 && text.includes('"choices"')) return { outcome: "ok" }
    return { outcome: "failed", why: `#${i} plain: ${res.status} ${text.slice(0, 160)}` }
  }
  if (res.status !== 200)
    return { outcome: "failed", why: `#${i} stream: ${res.status} ${(await res.text().catch(() => "")).slice(0, 160)}` }
  let body = ""
  try {
    const dec = new TextDecoder()
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>)
      body += dec.decode(chunk, { stream: true })
  } catch (e) {
    return {
      outcome: body.length ? "cut" : "failed",
      why: `#${i} stream cut after ${body.length} bytes: ${(e as Error).message}`,
    }
  }
  if (!body.includes("data: [DONE]"))
    return { outcome: body.length ? "cut" : "failed", why: `#${i} stream ended without [DONE]` }
  if (body.includes('"error"'))
    return {
      outcome: "failed",
      why: `#${i} stream error event: ${body.slice(body.indexOf('"error"'), body.indexOf('"error"') + 160)}`,
    }
  return { outcome: "ok" }
}

/** `total` chat requests, half streamed; `onProgress(done)` after each, to time a fault. */
export async function chatLoad(
  url: string,
  o: { total: number; concurrency: number; maxTokens: number; onProgress?: (done: number) => void },
): Promise<ChatResult> {
  const r: ChatResult = { ok: 0, failed: 0, cut: 0, failures: [], latencies: [], wallMs: 0 }
  const t0 = performance.now()
  let done = 0
  await pooled(o.total, o.concurrency, async (i) => {
    const s = performance.now()
    const { outcome, why } = await chatOnce(url, i, o.maxTokens)
    r[outcome]++
    if (outcome === "ok") r.latencies.push(performance.now() - s)
    else r.failures.push(`${outcome}: ${why}`)
    o.onProgress?.(++done)
  })
  r.wallMs = performance.now() - t0
  return r
}
