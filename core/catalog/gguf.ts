// core/catalog/gguf — reads a GGUF file's header from disk (never the tensor data) and says what the
// model is: architecture, parameter count, quantisation, context length, chat template, and whether it
// looks like an instruct, thinking or base model (admin guide §4.9). A file that is not GGUF, or that
// ends before its header or its tensor data does, is refused with a stable code (gguf_invalid,
// gguf_truncated, gguf_unsupported_version). Arrays (the vocabulary: 150 000 strings) are skipped, not kept.
import { closeSync, fstatSync, openSync, readSync } from "node:fs"
import { BadRequest } from "../errors.ts"

export const GGUF_MAGIC = "GGUF"

export class GgufInvalid extends BadRequest {
  constructor(message: string) {
    super(message, "gguf_invalid")
  }
}
export class GgufTruncated extends BadRequest {
  constructor(message: string) {
    super(message, "gguf_truncated")
  }
}

/** What the catalogue records about a model file (stored as JSON with its entry). */
export interface GgufHeader {
  version: number
  architecture: string
  name: string | null
  parameter_count: number
  tensor_count: number
  /** llama.cpp's file type (Q4_K_M…), else the most common tensor type. */
  quantization: string
  context_length: number | null
  chat_template: boolean
  /** instruct: answers directly; thinking: reasons aloud (<think>, QwQ, R1…); base: no chat template. */
  behaviour: "instruct" | "thinking" | "base" | "unknown"
  /** Why `behaviour` was chosen, for the page's guidance. */
  hints: string[]
  /** Bytes the header and tensor data need; the file may be longer (padding), never shorter. */
  data_end: number
}

/** ggml tensor types: [name, elements per block, bytes per block] (ggml.h / ggml.c type_traits). */
const GGML_TYPES: Record<number, [string, number, number]> = {
  0: ["F32", 1, 4],
  1: ["F16", 1, 2],
  2: ["Q4_0", 32, 18],
  3: ["Q4_1", 32, 20],
  6: ["Q5_0", 32, 22],
  7: ["Q5_1", 32, 24],
  8: ["Q8_0", 32, 34],
  9: ["Q8_1", 32, 36],
  10: ["Q2_K", 256, 84],
  11: ["Q3_K", 256, 110],
  12: ["Q4_K", 256, 144],
  13: ["Q5_K", 256, 176],
  14: ["Q6_K", 256, 210],
  15: ["Q8_K", 256, 292],
  16: ["IQ2_XXS", 256, 66],
  17: ["IQ2_XS", 256, 74],
  18: ["IQ3_XXS", 256, 98],
  19: ["IQ1_S", 256, 50],
  20: ["IQ4_NL", 32, 18],
  21: ["IQ3_S", 256, 110],
  22: ["IQ2_S", 256, 82],
  23: ["IQ4_XS", 256, 136],
  24: ["I8", 1, 1],
  25: ["I16", 1, 2],
  26: ["I32", 1, 4],
  27: ["I64", 1, 8],
  28: ["F64", 1, 8],
  29: ["IQ1_M", 256, 56],
  30: ["BF16", 1, 2],
  34: ["TQ1_0", 256, 54],
  35: ["TQ2_0", 256, 66],
  39: ["MXFP4", 32, 17],
}

/** llama.cpp's LLAMA_FTYPE values (general.file_type). */
const FILE_TYPES: Record<number, string> = {
  0: "F32",
  1: "F16",
  2: "Q4_0",
  3: "Q4_1",
  7: "Q8_0",
  8: "Q5_0",
  9: "Q5_1",
  10: "Q2_K",
  11: "Q3_K_S",
  12: "Q3_K_M",
  13: "Q3_K_L",
  14: "Q4_K_S",
  15: "Q4_K_M",
  16: "Q5_K_S",
  17: "Q5_K_M",
  18: "Q6_K",
  19: "IQ2_XXS",
  20: "IQ2_XS",
  21: "Q2_K_S",
  22: "IQ3_XS",
  23: "IQ3_XXS",
  24: "IQ1_S",
  25: "IQ4_NL",
  26: "IQ3_S",
  27: "IQ3_M",
  28: "IQ2_S",
  29: "IQ2_M",
  30: "IQ4_XS",
  31: "IQ1_M",
  32: "BF16",
  36: "TQ1_0",
  37: "TQ2_0",
  38: "MXFP4_MOE",
}

enum T {
  U8 = 0,
  I8 = 1,
  U16 = 2,
  I16 = 3,
  U32 = 4,
  I32 = 5,
  F32 = 6,
  BOOL = 7,
  STRING = 8,
  ARRAY = 9,
  U64 = 10,
  I64 = 11,
  F64 = 12,
}
const SCALAR_SIZE: Partial<Record<T, number>> = {
  [T.U8]: 1,
  [T.I8]: 1,
  [T.BOOL]: 1,
  [T.U16]: 2,
  [T.I16]: 2,
  [T.U32]: 4,
  [T.I32]: 4,
  [T.F32]: 4,
  [T.U64]: 8,
  [T.I64]: 8,
  [T.F64]: 8,
}

/** Sane ceilings: a corrupt count must not make us loop for hours or allocate gigabytes. */
const MAX_COUNT = 10_000_000
const MAX_STRING = 64 * 1024 * 1024
const MAX_DIMS = 8

/** Sequential reads over a file descriptor through a 1 MiB window. */
class FileCursor {
  private buf = Buffer.alloc(1 << 20)
  private start = 0
  private len = 0
  pos = 0
  constructor(
    private fd: number,
    readonly size: number,
  ) {}

  private need(n: number, what: string) {
    if (this.pos + n > this.size)
      throw new GgufTruncated(
        `the file ends at byte ${this.size} inside the GGUF header (reading ${what}); the upload was cut or the file is incomplete`,
      )
    if (this.pos >= this.start && this.pos + n <= this.start + this.len) return
    if (n > this.buf.length) this.buf = Buffer.alloc(n)
    this.start = this.pos
    this.len = 0
    const want = Math.min(this.buf.length, this.size - this.pos)
    while (this.len < want) {
      const got = readSync(this.fd, this.buf, this.len, want - this.len, this.start + this.len)
      if (got <= 0) break
      this.len += got
    }
    if (this.len < n) throw new GgufTruncated(`the file could not be read past byte ${this.start + this.len}`)
  }
  private at(n: number, what: string) {
    this.need(n, what)
    const o = this.pos - this.start
    this.pos += n
    return o
  }
  u8(what: string) {
    return this.buf.readUInt8(this.at(1, what))
  }
  u32(what: string) {
    return this.buf.readUInt32LE(this.at(4, what))
  }
  u64(what: string): number {
    const v = this.buf.readBigUInt64LE(this.at(8, what))
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new GgufInvalid(`${what} is ${v}, not a plausible value`)
    return Number(v)
  }
  scalar(t: T, what: string): number | bigint | boolean {
    switch (t) {
      case T.U8:
        return this.buf.readUInt8(this.at(1, what))
      case T.I8:
        return this.buf.readInt8(this.at(1, what))
      case T.BOOL:
        return this.buf.readUInt8(this.at(1, what)) !== 0
      case T.U16:
        return this.buf.readUInt16LE(this.at(2, what))
      case T.I16:
        return this.buf.readInt16LE(this.at(2, what))
      case T.U32:
        return this.buf.readUInt32LE(this.at(4, what))
      case T.I32:
        return this.buf.readInt32LE(this.at(4, what))
      case T.F32:
        return this.buf.readFloatLE(this.at(4, what))
      case T.U64:
        return this.buf.readBigUInt64LE(this.at(8, what))
      case T.I64:
        return this.buf.readBigInt64LE(this.at(8, what))
      case T.F64:
        return this.buf.readDoubleLE(this.at(8, what))
      default:
        throw new GgufInvalid(`${what} has unknown value type ${t}`)
    }
  }
  string(what: string): string {
    const n = this.u64(`${what} length`)
    if (n > MAX_STRING) throw new GgufInvalid(`${what} claims ${n} bytes, more than any GGUF string`)
    const o = this.at(n, what)
    return this.buf.toString("utf8", o, o + n)
  }
  skipString(what: string) {
    const n = this.u64(`${what} length`)
    if (n > MAX_STRING) throw new GgufInvalid(`${what} claims ${n} bytes, more than any GGUF string`)
    if (this.pos + n > this.size) this.need(n, what) // throws truncated
    this.pos += n
  }
  skip(n: number, what: string) {
    if (this.pos + n > this.size) this.need(n, what)
    this.pos += n
  }
}

/** True when the first bytes are GGUF's magic (checked on the first chunk of an upload). */
export function hasGgufMagic(first: Uint8Array): boolean {
  return first.length >= 4 && first[0] === 0x47 && first[1] === 0x47 && first[2] === 0x55 && first[3] === 0x46
}

/** Reads and checks the header of the GGUF file at `path`; throws GgufInvalid / GgufTruncated. */
export function readGgufHeader(path: string, fileName = path): GgufHeader {
  const fd = openSync(path, "r")
  try {
    const size = fstatSync(fd).size
    if (size === 0) throw new GgufInvalid(`${fileName} is empty (0 bytes)`)
    return parse(new FileCursor(fd, size), fileName)
  } finally {
    closeSync(fd)
  }
}

function parse(c: FileCursor, fileName: string): GgufHeader {
  if (c.size < 4) throw new GgufInvalid(`${fileName} is ${c.size} bytes, too short to be a GGUF file`)
  const magic = [c.u8("magic"), c.u8("magic"), c.u8("magic"), c.u8("magic")]
  if (!hasGgufMagic(Uint8Array.from(magic)))
    throw new GgufInvalid(
      `${fileName} is not a GGUF file (it starts with ${JSON.stringify(String.fromCharCode(...magic.map((b) => (b >= 32 && b < 127 ? b : 63))))}, not "GGUF")`,
    )
  const version = c.u32("version")
  if (version !== 2 && version !== 3) {
    const e = new GgufInvalid(`${fileName} is GGUF version ${version}; this pool reads versions 2 and 3`)
    throw Object.assign(e, { code: "gguf_unsupported_version" })
  }
  const tensorCount = c.u64("tensor count")
  const kvCount = c.u64("metadata count")
  if (tensorCount > MAX_COUNT || kvCount > MAX_COUNT)
    throw new GgufInvalid(`${fileName} declares ${tensorCount} tensors and ${kvCount} metadata keys: not plausible`)

  const kv = new Map<string, unknown>()
  for (let i = 0; i < kvCount; i++) {
    const key = c.string(`metadata key ${i}`)
    const type = c.u32(`type of ${key}`) as T
    if (type === T.STRING) {
      // Keep what we read (names, template); skip long strings we do not.
      if (key.startsWith("general.") || key === "tokenizer.chat_template" || key.endsWith(".context_length"))
        kv.set(key, c.string(key))
      else c.skipString(key)
    } else if (type === T.ARRAY) {
      const of = c.u32(`element type of ${key}`) as T
      const n = c.u64(`length of ${key}`)
      if (n > MAX_COUNT * 10) throw new GgufInvalid(`${key} claims ${n} elements: not plausible`)
      if (of === T.STRING) for (let j = 0; j < n; j++) c.skipString(key)
      else if (SCALAR_SIZE[of] !== undefined) c.skip(n * SCALAR_SIZE[of]!, key)
      else throw new GgufInvalid(`${key} is an array of unsupported type ${of}`)
    } else {
      const v = c.scalar(type, key)
      kv.set(key, typeof v === "bigint" ? Number(v) : v)
    }
  }

  let params = 0
  let dataBytes = 0
  const typeCount = new Map<number, number>()
  for (let i = 0; i < tensorCount; i++) {
    const name = c.string(`tensor ${i} name`)
    const nDims = c.u32(`dimensions of ${name}`)
    if (nDims === 0 || nDims > MAX_DIMS) throw new GgufInvalid(`tensor ${name} has ${nDims} dimensions`)
    let elements = 1
    for (let d = 0; d < nDims; d++) elements *= c.u64(`dimension ${d} of ${name}`)
    const type = c.u32(`type of ${name}`)
    const offset = c.u64(`offset of ${name}`)
    params += elements
    typeCount.set(type, (typeCount.get(type) ?? 0) + elements)
    const traits = GGML_TYPES[type]
    // An unknown (newer) type: we cannot size it, so only its start is checked.
    const bytes = traits ? Math.ceil(elements / traits[1]) * traits[2] : 0
    dataBytes = Math.max(dataBytes, offset + bytes)
  }
  const alignment = typeof kv.get("general.alignment") === "number" ? (kv.get("general.alignment") as number) : 32
  if (!(alignment > 0 && alignment <= 1 << 20)) throw new GgufInvalid(`general.alignment ${alignment} is not plausible`)
  const dataStart = Math.ceil(c.pos / alignment) * alignment
  const dataEnd = dataStart + dataBytes
  if (dataEnd > c.size)
    throw new GgufTruncated(
      `${fileName} is ${c.size} bytes but its tensors need ${dataEnd}: the file is truncated (${dataEnd - c.size} bytes missing)`,
    )

  const architecture =
    typeof kv.get("general.architecture") === "string" ? (kv.get("general.architecture") as string) : ""
  if (!architecture) throw new GgufInvalid(`${fileName} has no general.architecture: not a model llama.cpp can load`)
  const name = typeof kv.get("general.name") === "string" ? (kv.get("general.name") as string) : null
  const ctx = kv.get(`${architecture}.context_length`)
  const template =
    typeof kv.get("tokenizer.chat_template") === "string" ? (kv.get("tokenizer.chat_template") as string) : ""
  const fileType = kv.get("general.file_type")
  let quantization = typeof fileType === "number" ? FILE_TYPES[fileType] : undefined
  if (!quantization) {
    const top = [...typeCount.entries()].sort((a, b) => b[1] - a[1])[0]
    quantization = top ? (GGML_TYPES[top[0]]?.[0] ?? `type ${top[0]}`) : "none"
  }
  const { behaviour, hints } = classifyBehaviour(`${fileName} ${name ?? ""}`, template)
  return {
    version,
    architecture,
    name,
    parameter_count: params,
    tensor_count: tensorCount,
    quantization,
    context_length: typeof ctx === "number" ? ctx : null,
    chat_template: template.length > 0,
    behaviour,
    hints,
    data_end: dataEnd,
  }
}

/**
 * Admin guide §4.9: instruct non-thinking models are recommended; thinking models (Qwen3 without
 * Instruct-2507, QwQ, DeepSeek-R1, a template that opens <think>) and base models (no chat template)
 * get a warning. Hints from the name and the template only; the probe checks real answers.
 */
export function classifyBehaviour(name: string, template: string): Pick<GgufHeader, "behaviour" | "hints"> {
  const hints: string[] = []
  const n = name.toLowerCase()
  if (/<think>/.test(template)) hints.push("template_think_tag")
  if (/enable_thinking/.test(template)) hints.push("template_enable_thinking")
  if (/\bqwq\b|qwq-/.test(n)) hints.push("name_qwq")
  if (/(^|[-_. ])r1([-_. ]|$)|deepseek-r1/.test(n)) hints.push("name_r1")
  if (/thinking|reason/.test(n)) hints.push("name_thinking")
  const instructName = /instruct|[-_.]chat([-_.]|$)|[-_.]it([-_.]|$)/.test(n)
  if (instructName) hints.push("name_instruct")
  if (/qwen3(\.5)?-/.test(n) && !/instruct/.test(n)) hints.push("name_qwen3_not_instruct")
  if (!template) hints.push("no_chat_template")
  const thinking = hints.some((h) => h.startsWith("template_think") || /^name_(qwq|r1|thinking|qwen3_not)/.test(h))
  // "Instruct-2507" variants carry enable_thinking in no template and are named instruct: instruct wins
  // over the template switch alone, never over an explicit <think> in the template.
  if (hints.includes("template_think_tag") || (thinking && !instructName)) return { behaviour: "thinking", hints }
  if (!template) return { behaviour: "base", hints }
  if (instructName || template) return { behaviour: "instruct", hints }
  return { behaviour: "unknown", hints }
}
