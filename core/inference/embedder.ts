// core/inference/embedder — sentence embeddings (mean-pooled, L2-normalised) from a local
// sentence-transformers folder, through transformers.js on onnxruntime-node. Never touches the network.
//
// transformers.js is imported lazily and only from here: in the compiled binary it can load only after
// _onnx_native has unpacked the native runtime, and a static import would run at startup.
import { stat } from "node:fs/promises"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { BadRequest, CelluleError, NotFound, ServiceUnavailable } from "../errors.ts"
import { logger } from "../log.ts"
import { isCompiled, ONNXRUNTIME_VERSION, prepareOnnxRuntime } from "./_onnx_native.ts"

const log = logger("inference")

type Transformers = typeof import("@huggingface/transformers")
type FeatureExtractor = Awaited<ReturnType<Transformers["pipeline"]>> & {
  (texts: string[], opts: { pooling: "mean"; normalize: true }): Promise<{ dims: number[]; data: Float32Array }>
  tokenizer: ((
    texts: string[],
    opts: { padding: true; truncation: true },
  ) => { attention_mask: { data: Iterable<number | bigint> } }) & {
    encode(text: string, opts?: { add_special_tokens?: boolean }): number[]
  }
  dispose(): Promise<void>
}

/** Vectors, and the tokens the model read for them (special tokens included, after truncation). */
export interface Embedded {
  vectors: number[][]
  tokens: number
}

export interface EmbedderOptions {
  /** Folder in the sentence-transformers layout: config.json, tokenizer*.json, onnx/model.onnx. */
  modelDir: string
  /** onnxruntime intra-op threads. Default 1: embeddings share the machine with the LLM. */
  threads?: number
  /** Where the compiled binary unpacks native code (`<dataDir>/cache/native`). Unused in dev. */
  nativeCacheDir?: string
  /** Texts per forward pass; a batch is padded to its longest text. Default 32. */
  batchSize?: number
}

export interface EmbedderInfo {
  modelDir: string
  modelType: string
  dimensions: number
  threads: number
  batchSize: number
  runtime: string
  /** Folder the native runtime was loaded from (compiled binary), null in dev. */
  nativeDir: string | null
  loadMs: number
  /** Texts embedded since load. */
  embedded: number
}

const REQUIRED_FILES = ["config.json", "tokenizer.json", "tokenizer_config.json", join("onnx", "model.onnx")]

export class Embedder {
  #pipe: FeatureExtractor | null
  #tail: Promise<unknown> = Promise.resolve()
  #embedded = 0
  #disposed = false

  private constructor(
    pipe: FeatureExtractor,
    readonly dimensions: number,
    private readonly meta: Omit<EmbedderInfo, "embedded" | "dimensions">,
  ) {
    this.#pipe = pipe
  }

  static async load(opts: EmbedderOptions): Promise<Embedder> {
    const started = performance.now()
    const modelDir = resolve(opts.modelDir)
    const threads = opts.threads ?? 1
    const batchSize = opts.batchSize ?? 32
    if (!Number.isInteger(threads) || threads < 1)
      throw new BadRequest(`threads must be a positive integer, got ${threads}`, "embedder_options_invalid")
    if (!Number.isInteger(batchSize) || batchSize < 1)
      throw new BadRequest(`batchSize must be a positive integer, got ${batchSize}`, "embedder_options_invalid")
    for (const file of REQUIRED_FILES) {
      if (!(await stat(join(modelDir, file)).catch(() => null))?.isFile()) {
        throw new NotFound(`embedding model incomplete: ${join(modelDir, file)} is missing`, "embedder_model_missing")
      }
    }

    const native = await prepareOnnxRuntime(
      opts.nativeCacheDir ?? join(tmpdir(), `cellule-${process.getuid?.() ?? 0}`, "native"),
    )
    // transformers.js settings are process-wide; this module is their only owner.
    const { env, pipeline } = await importTransformers()
    env.allowLocalModels = true
    env.allowRemoteModels = false
    env.useFSCache = false
    env.useBrowserCache = false
    // env.fetch is transformers.js's only way out; with remote models off nothing should reach it.
    env.fetch = async (url: string | URL) => {
      throw new CelluleError("embedder_network_forbidden", `embedder tried to fetch ${String(url)}`, 500)
    }

    const config = (await Bun.file(join(modelDir, "config.json")).json()) as { model_type?: string }
    let pipe: FeatureExtractor | undefined
    let dimensions: number
    try {
      pipe = (await pipeline("feature-extraction", modelDir, {
        local_files_only: true,
        device: "cpu",
        dtype: "fp32",
        session_options: { intraOpNumThreads: threads, interOpNumThreads: 1 },
      })) as unknown as FeatureExtractor
      // Probe once rather than trust config.json: the pooled vector's length is what callers store.
      dimensions = (await pipe(["dimension probe"], { pooling: "mean", normalize: true })).dims[1]
    } catch (cause) {
      await pipe?.dispose().catch(() => {})
      throw new CelluleError(
        "embedder_load_failed",
        `cannot load embedding model from ${modelDir}: ${String(cause)}`,
        500,
        "the folder must hold a sentence-transformers ONNX export (onnx/model.onnx)",
        { cause },
      )
    }
    const loadMs = performance.now() - started
    log.info(`embedder ready: ${modelDir} (${dimensions} dims, ${threads} thread(s), ${Math.round(loadMs)} ms)`)
    return new Embedder(pipe, dimensions, {
      modelDir,
      modelType: config.model_type ?? "unknown",
      threads,
      batchSize,
      runtime: `onnxruntime-node ${ONNXRUNTIME_VERSION}`,
      nativeDir: native,
      loadMs: Math.round(loadMs),
    })
  }

  /**
   * One unit-norm vector per text, in order. Calls run one at a time, in arrival order.
   * Throws `embed_input_empty` for no texts or a blank text: an empty string has no meaning to retrieve by.
   */
  async embed(texts: string[]): Promise<number[][]> {
    return (await this.embedWithUsage(texts)).vectors
  }

  /** As embed(), with the token count that is the request's usage (the tokenizer's, not a word count). */
  embedWithUsage(texts: string[]): Promise<Embedded> {
    if (this.#disposed) {
      return Promise.reject(new ServiceUnavailable("embedder_disposed", "the embedder was disposed"))
    }
    if (!Array.isArray(texts) || texts.length === 0) {
      return Promise.reject(new BadRequest("nothing to embed: pass at least one text", "embed_input_empty"))
    }
    const blank = texts.findIndex((t) => typeof t !== "string" || t.trim() === "")
    if (blank >= 0) {
      return Promise.reject(new BadRequest(`text ${blank} is empty or not a string`, "embed_input_empty"))
    }
    const run = this.#tail.then(() => this.#run(texts))
    this.#tail = run.catch(() => {})
    return run
  }

  async #run(texts: string[]): Promise<Embedded> {
    const pipe = this.#pipe!
    const out: number[][] = []
    let tokens = 0
    for (let i = 0; i < texts.length; i += this.meta.batchSize) {
      const batch = texts.slice(i, i + this.meta.batchSize)
      // Tokenized as the pipeline does (padded, truncated); the attention mask counts the real tokens.
      for (const m of pipe.tokenizer(batch, { padding: true, truncation: true }).attention_mask.data)
        tokens += Number(m)
      const tensor = await pipe(batch, { pooling: "mean", normalize: true }).catch((cause) => {
        throw new CelluleError("embed_failed", `embedding failed: ${String(cause)}`, 500, undefined, { cause })
      })
      const [rows, dims] = tensor.dims as [number, number]
      for (let r = 0; r < rows; r++) out.push(Array.from(tensor.data.subarray(r * dims, (r + 1) * dims)))
    }
    this.#embedded += texts.length
    return { vectors: out, tokens }
  }

  /**
   * Tokens the model sees for each text, special tokens included (so countTokens([""]) is their
   * number). RAG chunking sizes chunks with this, on the worker that holds the tokenizer.
   */
  countTokens(texts: string[]): number[] {
    if (this.#disposed || !this.#pipe) throw new ServiceUnavailable("embedder_disposed", "the embedder was disposed")
    const tokenizer = this.#pipe.tokenizer
    return texts.map((t) => tokenizer.encode(String(t)).length)
  }

  info(): EmbedderInfo {
    return { ...this.meta, dimensions: this.dimensions, embedded: this.#embedded }
  }

  /** Waits for queued calls, then frees the session. Idempotent; later embed() calls fail with `embedder_disposed`. */
  async dispose(): Promise<void> {
    this.#disposed = true
    await this.#tail
    const pipe = this.#pipe
    this.#pipe = null
    await pipe?.dispose()
  }
}

async function importTransformers(): Promise<Transformers> {
  try {
    return await import("@huggingface/transformers")
  } catch (cause) {
    throw new CelluleError(
      "embedder_native_unavailable",
      `cannot load transformers.js: ${String(cause)}`,
      503,
      isCompiled()
        ? "build the binary with --splitting --external sharp (see core/inference/_onnx_native.ts)"
        : undefined,
      { cause },
    )
  }
}
