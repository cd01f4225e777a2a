// core/catalog/families — what a model file's name says about its family (admin guide §4.9.1-4.9.3):
// instruct non-thinking (recommended), thinking (works, but answers may show reasoning), base or
// in-house (not recommended for employees), or unknown. A hint for the Models page before the probe
// (core/catalog/probe.ts) looks at real answers; the guide's recommendations per hardware class too.
export type ModelFamily = "instruct" | "thinking" | "base" | "unknown"

/** §4.9.4: the recommended model per hardware class. */
export const RECOMMENDED: Record<"cpu-mid" | "gpu-small" | "gpu-large" | "apple-m", string> = {
  "cpu-mid": "Qwen3-4B-Instruct-2507-Q4_K_M.gguf",
  "gpu-small": "Qwen3-4B-Instruct-2507-Q4_K_M.gguf",
  "gpu-large": "Qwen3-30B-A3B-Instruct-2507-Q4_K_M.gguf",
  "apple-m": "Qwen3-4B-Instruct-2507-Q4_K_M.gguf",
}

/** The family a file name points to: the guide's thinking list first, then instruct markers, then base. */
export function familyOf(fileName: string): ModelFamily {
  const n = fileName.toLowerCase()
  // §4.9.2: QwQ, DeepSeek-R1 (and distillations), Qwen3 / Qwen3.5 without an Instruct variant
  if (/(^|[^a-z])qwq/.test(n) || /deepseek-r1/.test(n) || /-r1-distill/.test(n)) return "thinking"
  if (/thinking/.test(n)) return "thinking"
  if (/qwen3(\.5)?-/.test(n) && !/instruct/.test(n) && !/coder/.test(n)) return "thinking"
  if (/instruct|-it[-_.]|-chat[-_.]/.test(n)) return "instruct"
  if (/(^|[-_.])base([-_.]|$)/.test(n)) return "base"
  return "unknown"
}
