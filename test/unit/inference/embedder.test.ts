import { afterAll, beforeAll, describe, expect, spyOn, test } from "bun:test"
import { CString, dlopen, FFIType } from "bun:ffi"
import { mkdtemp, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Embedder } from "../../../core/inference/embedder.ts"
import { writeTinyEmbedder } from "../../fixtures/embedder.ts"

let dir: string
let embedder: Embedder
let fetchSpy: ReturnType<typeof spyOn>

const norm = (v: number[]) => Math.sqrt(v.reduce((s, x) => s + x * x, 0))
const cosine = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i], 0)

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "cellule-embedder-"))
  await writeTinyEmbedder(join(dir, "model"), { seed: 7 })
  fetchSpy = spyOn(globalThis, "fetch")
  embedder = await Embedder.load({ modelDir: join(dir, "model"), threads: 1 })
})

afterAll(async () => {
  await embedder?.dispose()
  fetchSpy?.mockRestore()
  await rm(dir, { recursive: true, force: true })
})

describe("Embedder", () => {
  test("one text gives one 384-dimension unit vector", async () => {
    const [v, ...rest] = await embedder.embed(["hello world"])
    expect(rest).toHaveLength(0)
    expect(v).toHaveLength(384)
    expect(embedder.dimensions).toBe(384)
    expect(Math.abs(1 - norm(v))).toBeLessThan(1e-5)
  })

  test("an array gives one unit vector per text, in order, equal to embedding each alone", async () => {
    const texts = [
      "the cat is on the table",
      "le chat est sur la table",
      "a much longer sentence about federated search servers",
    ]
    const batch = await embedder.embed(texts)
    expect(batch).toHaveLength(3)
    for (const [i, text] of texts.entries()) {
      expect(batch[i]).toHaveLength(384)
      expect(Math.abs(1 - norm(batch[i]))).toBeLessThan(1e-5)
      const [alone] = await embedder.embed([text])
      expect(cosine(alone, batch[i])).toBeGreaterThan(1 - 1e-5)
    }
  })

  test("the same text always gives the same vector", async () => {
    const [a] = await embedder.embed(["Cellule keeps data private"])
    const [b] = await embedder.embed(["Cellule keeps data private"])
    expect(b).toEqual(a)
  })

  test.each([
    ["different words", "hello world", "bonjour le monde"],
    ["same words, other order", "dog bites man", "man bites dog"],
  ])("%s give different vectors", async (_name, x, y) => {
    const [a, b] = await embedder.embed([x, y])
    expect(cosine(a, b)).toBeLessThan(0.999)
  })

  test("concurrent calls are served one at a time and each gets its own answer", async () => {
    const texts = ["one", "two", "three", "four", "five"]
    const [together, ...alone] = await Promise.all([embedder.embed(texts), ...texts.map((t) => embedder.embed([t]))])
    for (const [i, [v]] of alone.entries()) expect(cosine(v, together[i])).toBeGreaterThan(1 - 1e-5)
  })

  test.each([
    ["no texts", []],
    ["an empty string", ["ok", ""]],
    ["a blank string", ["  \n "]],
  ])("%s is rejected with embed_input_empty", async (_name, texts) => {
    await expect(embedder.embed(texts as string[])).rejects.toMatchObject({ code: "embed_input_empty", status: 400 })
  })

  test("usage counts the tokenizer's tokens, special tokens included, not words", async () => {
    const { AutoTokenizer } = await import("@huggingface/transformers")
    const tokenizer = await AutoTokenizer.from_pretrained(join(dir, "model"), { local_files_only: true })
    // "embeddings" is two WordPiece tokens (embedding ##s); every text also gets [CLS] and [SEP].
    const texts = ["hello world", "the embeddings of models", "cat"]
    const expected = texts.reduce((n, t) => n + tokenizer.encode(t).length, 0)
    const words = texts.reduce((n, t) => n + t.split(/\s+/).length, 0)
    expect(expected).toBe(4 + 7 + 3)
    expect(words).toBe(7)
    const r = await embedder.embedWithUsage(texts)
    expect(r.tokens).toBe(expected)
    expect(r.vectors).toEqual(await embedder.embed(texts))
  })

  test("loading and embedding never touch the network", () => {
    expect(fetchSpy).not.toHaveBeenCalled()
  })

  // Bun's process.env does not reach getenv(), where onnxruntime's Microsoft telemetry looks.
  test("onnxruntime telemetry is switched off in the C environment", () => {
    const libc = dlopen("libc.so.6", { getenv: { args: [FFIType.cstring], returns: FFIType.ptr } })
    const value = libc.symbols.getenv(Buffer.from("ORT_DISABLE_TELEMETRY\0"))
    libc.close()
    expect(value ? new CString(value).toString() : null).toBe("1")
  })

  test("info() describes the loaded model", () => {
    const info = embedder.info()
    expect(info).toMatchObject({ modelType: "bert", dimensions: 384, threads: 1, nativeDir: null })
    expect(info.embedded).toBeGreaterThan(0)
  })
})

describe("Embedder.load", () => {
  test("a folder without onnx/model.onnx is rejected with embedder_model_missing", async () => {
    await rm(join(dir, "broken"), { recursive: true, force: true })
    await writeTinyEmbedder(join(dir, "broken"))
    await rm(join(dir, "broken", "onnx"), { recursive: true })
    await expect(Embedder.load({ modelDir: join(dir, "broken") })).rejects.toMatchObject({
      code: "embedder_model_missing",
    })
  })

  test("a folder whose model.onnx is not ONNX is rejected with embedder_load_failed", async () => {
    await writeTinyEmbedder(join(dir, "garbage"))
    await Bun.write(join(dir, "garbage", "onnx", "model.onnx"), "not a model")
    await expect(Embedder.load({ modelDir: join(dir, "garbage") })).rejects.toMatchObject({
      code: "embedder_load_failed",
    })
  })

  test("a disposed embedder refuses work with embedder_disposed", async () => {
    const other = await Embedder.load({ modelDir: join(dir, "model") })
    const pending = other.embed(["finishes before dispose"])
    await other.dispose()
    expect(await pending).toHaveLength(1)
    await expect(other.embed(["too late"])).rejects.toMatchObject({ code: "embedder_disposed" })
  })

  test("the fixture is deterministic from its seed", async () => {
    await writeTinyEmbedder(join(dir, "again"), { seed: 7 })
    const [a, b] = await Promise.all(
      ["model", "again"].map((m) => Bun.file(join(dir, m, "onnx", "model.onnx")).bytes()),
    )
    expect(Bun.hash(a)).toBe(Bun.hash(b))
  })
})
