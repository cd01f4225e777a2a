import { expect, test } from "bun:test"
import { familyOf } from "../../../core/catalog/families.ts"

test.each([
  ["Qwen3-4B-Instruct-2507-Q4_K_M.gguf", "instruct"],
  ["Qwen3-30B-A3B-Instruct-2507-Q4_K_M.gguf", "instruct"],
  ["Meta-Llama-3.1-8B-Instruct-Q4_K_M.gguf", "instruct"],
  ["Mistral-7B-Instruct-v0.3.Q4_K_M.gguf", "instruct"],
  ["gemma-2-9b-it-Q4_K_M.gguf", "instruct"],
  ["Qwen3-4B-Q4_K_M.gguf", "thinking"],
  ["Qwen3.5-4B-Q4_K_M.gguf", "thinking"],
  ["QwQ-32B-Q4_K_M.gguf", "thinking"],
  ["DeepSeek-R1-Distill-Qwen-7B-Q4_K_M.gguf", "thinking"],
  ["Qwen3-4B-Thinking-2507-Q4_K_M.gguf", "thinking"],
  ["Qwen3-Coder-30B-A3B-Instruct-Q4_K_M.gguf", "instruct"],
  ["Mistral-7B-v0.1-base.Q4_K_M.gguf", "base"],
  ["our-finetune.gguf", "unknown"],
])("%s is %s", (name, family) => {
  expect(familyOf(name)).toBe(family as ReturnType<typeof familyOf>)
})
