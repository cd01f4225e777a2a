// bench/overhead — what the pool costs: decode tokens/s and time-to-first-token through
// pool + worker (streamed, official openai client) versus node-llama-cpp driven directly.
// Sides alternate (never concurrently); two direct processes serve as the noise control.
//   bun bench/overhead.ts [--rounds 3] [--requests 10] [--max-tokens 32] [--threads 2] [--quant q8_0] [--model FILE.gguf]
import { arg } from "./_args.ts"
import { existsSync, mkdirSync, renameSync } from "node:fs"
import { join } from "node:path"
import OpenAI from "openai"
import { writeSyntheticLlama } from "../test/fixtures/gguf.ts"
import { BUN, ROOT, cleanupAll, startPool, startWorker } from "../test/support/proc.ts"

const rounds = Number(arg("rounds", "3"))
const requests = Number(arg("requests", "10"))
const maxTokens = Number(arg("max-tokens", "32"))
const threads = arg("threads", "2")
const quant = arg("quant", "q8_0") as "q8_0" | "q4_0"

const dir = join(ROOT, "test-artifacts", "bench")
mkdirSync(dir, { recursive: true })
const model = arg("model", join(dir, `synthetic-1b-${quant}.gguf`))
if (!existsSync(model)) {
  console.error(`generating ${model} (TinyLlama-1.1B shapes, ${quant}) …`)
  await writeSyntheticLlama(`${model}.tmp`, { preset: "1b", quant, seed: 1 })
  renameSync(`${model}.tmp`, model)
}

type Sample = { ttftMs: number; tokens: number; decodeTps: number }

async function direct(): Promise<Sample[]> {
  const p = Bun.spawn([BUN, join(ROOT, "bench/_direct.ts"), model, String(requests), String(maxTokens), threads], {
    stdout: "pipe",
    stderr: "ignore",
  })
  const text = await new Response(p.stdout).text()
  if ((await p.exited) !== 0) throw new Error("direct run failed")
  return JSON.parse(text.trim().split("\n").at(-1)!)
}

const token = "bench-token-0123456789abcdef"
const pool = await startPool({ env: { CELLULE_WORKER_TOKEN: token, LOG_LEVEL: "warn" } })
await startWorker({
  poolUrl: pool.url,
  token,
  models: [`bench=${model}`],
  slots: 1,
  threads: Number(threads),
  env: { LOG_LEVEL: "warn" },
})
const client = new OpenAI({ baseURL: `${pool.url}/v1`, apiKey: "x", maxRetries: 0 })

async function viaPool(): Promise<Sample[]> {
  await client.chat.completions.create({
    model: "bench",
    messages: [{ role: "user", content: "warm up" }],
    max_tokens: 4,
  })
  const out: Sample[] = []
  for (let i = 0; i < requests; i++) {
    const t0 = performance.now()
    let first = 0
    let last = 0
    let tokens = 0
    const stream = await client.chat.completions.create({
      model: "bench",
      messages: [{ role: "user", content: `request ${i % 5}` }],
      max_tokens: maxTokens,
      temperature: 0,
      stream: true,
      stream_options: { include_usage: true },
    })
    for await (const c of stream) {
      if (c.usage) tokens = c.usage.completion_tokens
      if (c.choices[0]?.delta.content) {
        last = performance.now()
        if (!first) first = last
      }
    }
    out.push({ ttftMs: first - t0, tokens, decodeTps: (tokens - 1) / ((last - first) / 1000) })
  }
  return out
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}
const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]

const sides: Record<"directA" | "pool" | "directB", Sample[][]> = { directA: [], pool: [], directB: [] }
for (let r = 0; r < rounds; r++) {
  // Alternate the order each round so drift on a noisy machine does not favour one side.
  const order: (keyof typeof sides)[] = r % 2 ? ["pool", "directB", "directA"] : ["directA", "pool", "directB"]
  for (const side of order) {
    sides[side].push(side === "pool" ? await viaPool() : await direct())
    console.error(`round ${r + 1}/${rounds} ${side} done`)
  }
}
await cleanupAll()

const roundTps = (s: Sample[][]) => s.map((round) => median(round.map((x) => x.decodeTps)))
const all = (s: Sample[][]) => s.flat()
const fmt = (x: number, d = 1) => x.toFixed(d)
const spread = (xs: number[]) => `${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))}`

const tA = roundTps(sides.directA)
const tB = roundTps(sides.directB)
const tP = roundTps(sides.pool)
const direct50 = median([...all(sides.directA), ...all(sides.directB)].map((x) => x.ttftMs))
const direct95 = pct(
  [...all(sides.directA), ...all(sides.directB)].map((x) => x.ttftMs),
  95,
)
const pool50 = median(all(sides.pool).map((x) => x.ttftMs))
const pool95 = pct(
  all(sides.pool).map((x) => x.ttftMs),
  95,
)
const directMed = median([...tA, ...tB])

console.log(`
bench/overhead — ${model.endsWith(`synthetic-1b-${quant}.gguf`) ? `synthetic 1.1B ${quant}` : model}, ${threads} threads, ${rounds} rounds × ${requests} requests × ${maxTokens} tokens, CPU
| side | decode tok/s (median of round medians) | spread across rounds | TTFT p50 ms | TTFT p95 ms |
| --- | --- | --- | --- | --- |
| direct A (node-llama-cpp) | ${fmt(median(tA), 2)} | ${spread(tA)} | ${fmt(median(all(sides.directA).map((x) => x.ttftMs)))} | ${fmt(
  pct(
    all(sides.directA).map((x) => x.ttftMs),
    95,
  ),
)} |
| direct B (control) | ${fmt(median(tB), 2)} | ${spread(tB)} | ${fmt(median(all(sides.directB).map((x) => x.ttftMs)))} | ${fmt(
  pct(
    all(sides.directB).map((x) => x.ttftMs),
    95,
  ),
)} |
| pool + worker (openai client, SSE) | ${fmt(median(tP), 2)} | ${spread(tP)} | ${fmt(pool50)} | ${fmt(pool95)} |

control B / A: ${fmt((100 * median(tB)) / median(tA))} %   pool / direct: ${fmt((100 * median(tP)) / directMed)} % (target ≥ 97 %)
TTFT added by the pool: p50 ${fmt(pool50 - direct50)} ms (target ≤ 5 ms), p95 ${fmt(pool95 - direct95)} ms
`)
