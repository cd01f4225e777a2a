// inspectAnswer (core/catalog/probe.ts): what the model probe flags in one raw control answer.
import { expect, test } from "bun:test"
import { inspectAnswer } from "../../../core/catalog/probe.ts"

test.each([
  ["a plain instruct answer", "Hello! How can I help you today?", []],
  ["a numbered answer that is not analysis", "1. Preheat the oven.\n2. Mix.", []],
  ["think tags", "<think>the user greets me</think>\n\nHello!", ["think_tags"]],
  ["a think block never closed is also empty", "<think>the user greets me", ["think_tags", "empty_answer"]],
  [
    "a numbered analytical preamble",
    "1. **Analyze the Request:** greeting.\n2. **Draft:** Hi\n\nHi!",
    ["numbered_preamble"],
  ],
  [
    "a French preamble after a think block",
    "<think>x</think>1. Analyse la demande : salut\n\nSalut !",
    ["think_tags", "numbered_preamble"],
  ],
  ["leaked ChatML tokens (a base model)", "Hi<|im_end|>\n<|im_start|>user\nand you?", ["special_tokens"]],
  ["leaked Llama 3 tokens", "Hi<|eot_id|>", ["special_tokens"]],
  ["an empty answer", "  \n", ["empty_answer"]],
])("%s", (_name, text, flags) => {
  expect(inspectAnswer(text) as string[]).toEqual(flags as string[])
})
