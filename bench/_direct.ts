// bench/_direct — one process driving node-llama-cpp directly (no pool): the baseline side of
// bench/overhead. Prints one JSON line of per-request measurements.
import { LlamaEngine } from "../core/inference/llama.ts"

const [modelPath, n, maxTokens, threads] = process.argv.slice(2)
const engine = await LlamaEngine.load({
  modelPath,
  threads: Number(threads),
  sequences: 1,
  contextSize: 1024,
  gpu: false,
})
const out: { ttftMs: number; tokens: number; decodeTps: number }[] = []
// One warm-up request so both sides measure a warm engine.
await engine.generate({ messages: [{ role: "user", content: "warm up" }], maxTokens: 4 })
for (let i = 0; i < Number(n); i++) {
  const t0 = performance.now()
  let first = 0
  let last = 0
  let _chunks = 0
  const r = await engine.generate(
    { messages: [{ role: "user", content: `request ${i % 5}` }], maxTokens: Number(maxTokens), temperature: 0 },
    () => {
      last = performance.now()
      if (!first) first = last
      _chunks++
    },
  )
  const tokens = r.usage.completionTokens
  out.push({ ttftMs: first - t0, tokens, decodeTps: (tokens - 1) / ((last - first) / 1000) })
}
await engine.dispose()
console.log(JSON.stringify(out))
