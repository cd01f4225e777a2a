// Test support: forged GGUF models for the catalogue — a real header (architecture, name, file type,
// context length, optional chat template) and one F32 tensor whose bytes are zeros, produced chunk by
// chunk, so a 1 GB model is streamed from a generator and never sits in memory.
import { GgmlType, ggufHeader, str, u32, type KvValue } from "../fixtures/gguf.ts"
import { CHATML_TEMPLATE } from "../fixtures/gguf.ts"

export const THINK_TEMPLATE =
  "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n'}}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n<think>\\n' }}{% endif %}"

export interface Forged {
  /** Tensor bytes after the header (a multiple of 4). */
  dataBytes?: number
  name?: string
  architecture?: string
  /** A chat template; null: none (a base model). Default: ChatML. */
  template?: string | null
  contextLength?: number
  /** llama.cpp file type (15 = Q4_K_M). */
  fileType?: number
}

export function forgedHeader(f: Forged = {}): Uint8Array {
  const arch = f.architecture ?? "llama"
  const meta: Record<string, KvValue> = {
    "general.architecture": str(arch),
    "general.name": str(f.name ?? "forged-instruct"),
    "general.file_type": u32(f.fileType ?? 15),
    [`${arch}.context_length`]: u32(f.contextLength ?? 8192),
  }
  const template = f.template === undefined ? CHATML_TEMPLATE : f.template
  if (template !== null) meta["tokenizer.chat_template"] = str(template)
  const elements = (f.dataBytes ?? 4096) / 4
  return ggufHeader(meta, [{ name: "token_embd.weight", dims: [elements], type: GgmlType.F32 }])
}

/** The whole forged file, chunk by chunk: header, then `dataBytes` of zeros (1 MiB at a time). */
export function* forgedChunks(f: Forged = {}): Generator<Uint8Array> {
  yield forgedHeader(f)
  const zeros = new Uint8Array(1 << 20)
  let left = f.dataBytes ?? 4096
  while (left > 0) {
    const n = Math.min(left, zeros.length)
    yield n === zeros.length ? zeros : zeros.subarray(0, n)
    left -= n
  }
}

/** A small forged model as one buffer (for unit tests and uploads of a few KB). */
export function forgedBytes(f: Forged = {}): Uint8Array {
  return Buffer.concat([...forgedChunks(f)])
}

/** A fetch body streaming the forged model (never whole in memory). */
export function forgedStream(f: Forged = {}): ReadableStream<Uint8Array> {
  const it = forgedChunks(f)
  return new ReadableStream({
    pull(c) {
      const n = it.next()
      if (n.done) c.close()
      else c.enqueue(n.value.slice())
    },
  })
}
