// core/inference/llama — the worker-side engine: one GGUF model, one llama.cpp context split into
// N sequences, one request per sequence at a time. Knows nothing of HTTP or the scheduler, and never
// imports node-llama-cpp values directly (see ./_native.ts).
import { basename, join } from "node:path"
import { tmpdir } from "node:os"
import type {
  ChatHistoryItem,
  ChatWrapper,
  ChatWrapperGenerateContextStateOptions,
  Llama,
  LlamaContext,
  LlamaContextSequence,
  LlamaModel,
} from "node-llama-cpp"
import { BadRequest, CelluleError, ConfigError } from "../errors.ts"
import { logger } from "../log.ts"
import { loadLlama, nodeLlamaCpp } from "./_native.ts"

const log = logger("inference")

export type ChatMessage = { role: "system" | "user" | "assistant"; content: string }

export type GenerateRequest = {
  /** Rendered with the model's own chat template; a trailing assistant message is continued. */
  messages?: ChatMessage[]
  /** Raw completion of this text (exclusive with `messages`). */
  prompt?: string
  /** Capped to what fits in the sequence's context. Default: until the context is full. */
  maxTokens?: number
  /** 0 (the default) samples greedily and is deterministic. */
  temperature?: number
  topP?: number
  seed?: number
  stop?: string[]
  signal?: AbortSignal
  /**
   * Token ids another worker already generated for this request (failover). They are appended to
   * the prompt as tokens, never re-tokenized text, so the continuation is the answer the first
   * worker would have produced.
   */
  resumeTokens?: number[]
}

export type FinishReason = "stop" | "length" | "abort"

export type GenerateResult = {
  text: string
  finishReason: FinishReason
  usage: { promptTokens: number; completionTokens: number }
}

export type LoadOptions = {
  modelPath: string
  /** llama.cpp worker threads; always set it (the default collapses on small machines). */
  threads: number
  /** Tokens per sequence (prompt + completion), capped to the model's training context. Default: that, at most 4096. */
  contextSize?: number
  /** Parallel requests sharing the context. */
  sequences: number
  gpu?: "auto" | false
  /** Tokens decoded per batch (llama.cpp n_batch); default: node-llama-cpp's choice. */
  batchSize?: number
  /** Flash attention; default off (node-llama-cpp's default). */
  flashAttention?: boolean
  /** Memory format of the KV cache (keys and values); default f16. */
  kvCacheType?: "f16" | "q8_0" | "q4_0"
  /** Compiled binary only: where llama.cpp's native files are unpacked (`<dataDir>/cache/native`). */
  nativeCacheDir?: string
}

const KV_TYPES = { f16: "F16", q8_0: "Q8_0", q4_0: "Q4_0" } as const

export type EngineInfo = {
  model: string
  file: string
  contextSize: number
  sequences: number
  busy: number
  waiting: number
  threads: number
  gpu: string | false
  batchSize: number
  flashAttention: boolean
  kvCacheType: string
}

type NodeLlamaCpp = Awaited<ReturnType<typeof nodeLlamaCpp>>
type Waiter = { resolve: (seq: LlamaContextSequence | null) => void; reject: (err: Error) => void }

export class LlamaEngine {
  private readonly free: LlamaContextSequence[]
  private readonly chatWrapper: ChatWrapper
  private readonly rawWrapper: ChatWrapper
  private readonly waiters: Waiter[] = []
  private readonly running = new Set<Promise<unknown>>()
  private readonly closing = new AbortController()
  private disposing: Promise<void> | undefined

  private constructor(
    private readonly nlc: NodeLlamaCpp,
    private readonly llama: Llama,
    private readonly model: LlamaModel,
    private readonly context: LlamaContext,
    private readonly opts: LoadOptions,
  ) {
    this.free = Array.from({ length: opts.sequences }, () => context.getSequence())
    this.chatWrapper = nlc.resolveChatWrapper(model)
    this.rawWrapper = rawPromptWrapper(nlc, model)
  }

  /** Loads the model and creates its one context; throws `model_load_failed` with the cause. */
  static async load(opts: LoadOptions): Promise<LlamaEngine> {
    if (!Number.isInteger(opts.threads) || opts.threads < 1) throw new ConfigError("threads must be a positive integer")
    if (!Number.isInteger(opts.sequences) || opts.sequences < 1)
      throw new ConfigError("sequences must be a positive integer")
    const nlc = await nodeLlamaCpp()
    let llama: Llama | undefined
    let model: LlamaModel | undefined
    try {
      llama = await loadLlama({
        gpu: opts.gpu ?? "auto",
        threads: opts.threads,
        nativeCacheDir: opts.nativeCacheDir ?? join(tmpdir(), "cellule-native"),
        logger: llamaCppLog,
      })
      model = await llama.loadModel({ modelPath: opts.modelPath, gpuLayers: llama.gpu === false ? 0 : "auto" })
      // beyond its training context a model produces garbage, so a larger request is capped
      const train = model.trainContextSize
      if (opts.contextSize && opts.contextSize > train)
        log.warn(`${basename(opts.modelPath)} was trained on ${train} tokens; context capped from ${opts.contextSize}`)
      const context = await model.createContext({
        sequences: opts.sequences,
        threads: opts.threads,
        contextSize: opts.contextSize ? Math.min(opts.contextSize, train) : { max: Math.min(4096, train) },
        // fail loudly instead of silently shrinking the context we were asked for
        failedCreationRemedy: false,
        ...(opts.batchSize ? { batchSize: opts.batchSize } : {}),
        ...(opts.flashAttention !== undefined ? { flashAttention: opts.flashAttention } : {}),
        ...(opts.kvCacheType
          ? {
              experimentalKvCacheKeyType: KV_TYPES[opts.kvCacheType],
              experimentalKvCacheValueType: KV_TYPES[opts.kvCacheType],
            }
          : {}),
      })
      const engine = new LlamaEngine(nlc, llama, model, context, opts)
      log.info(
        `loaded ${engine.info().model}: context ${context.contextSize} x ${opts.sequences} sequences, ` +
          `${opts.threads} threads, gpu ${llama.gpu}`,
      )
      return engine
    } catch (err) {
      await model?.dispose().catch(() => {})
      await llama?.dispose().catch(() => {})
      if (err instanceof CelluleError) throw err
      throw new CelluleError(
        "model_load_failed",
        `could not load ${opts.modelPath}: ${(err as Error)?.message ?? err}`,
        500,
        "check that the file is a complete GGUF model and that there is enough memory",
        { cause: err },
      )
    }
  }

  /**
   * Generates one response. Text deltas stream through `onToken` as they are decoded (never split
   * inside a UTF-8 character); the promise resolves once generation ended and the sequence is free.
   * Aborting resolves with finishReason "abort" and the text so far; it never rejects for an abort.
   */
  async generate(req: GenerateRequest, onToken?: (text: string, ids: number[]) => void): Promise<GenerateResult> {
    if (this.disposing) throw disposedError()
    const run = this.run(req, onToken)
    this.running.add(run)
    try {
      return await run
    } finally {
      this.running.delete(run)
    }
  }

  info(): EngineInfo {
    const file = this.opts.modelPath
    const name = this.model.fileInfo.metadata?.general?.name
    return {
      model: typeof name === "string" && name ? name : basename(file).replace(/\.gguf$/i, ""),
      file,
      contextSize: this.context.contextSize,
      sequences: this.opts.sequences,
      busy: this.opts.sequences - this.free.length,
      waiting: this.waiters.length,
      threads: this.opts.threads,
      gpu: this.llama.gpu,
      batchSize: this.context.batchSize,
      flashAttention: this.context.flashAttention === true,
      kvCacheType: this.opts.kvCacheType ?? "f16",
    }
  }

  /** Aborts running requests, fails queued ones, frees the context, model and backend. Idempotent. */
  dispose(): Promise<void> {
    this.disposing ??= (async () => {
      // queued requests never started: they fail; running ones end as "abort" with their text so far
      for (const w of this.waiters.splice(0)) w.reject(disposedError())
      this.closing.abort()
      await Promise.allSettled([...this.running])
      await this.context.dispose()
      await this.model.dispose()
      await this.llama.dispose()
      log.info("engine disposed")
    })()
    return this.disposing
  }

  private async run(req: GenerateRequest, onToken?: (text: string, ids: number[]) => void): Promise<GenerateResult> {
    const input = this.prepare(req)
    const resume = req.resumeTokens ?? []
    if (resume.length) input.promptTokens += resume.length
    const contextSize = this.context.contextSize
    if (input.promptTokens >= contextSize)
      throw new CelluleError(
        "context_length_exceeded",
        `the prompt has ${input.promptTokens} tokens; this model's context holds ${contextSize}`,
        400,
      )
    const maxTokens = Math.min(req.maxTokens ?? Infinity, contextSize - input.promptTokens)
    const signal = req.signal ? AbortSignal.any([req.signal, this.closing.signal]) : this.closing.signal

    const seq = await this.acquire(signal)
    if (!seq)
      return { text: "", finishReason: "abort", usage: { promptTokens: input.promptTokens, completionTokens: 0 } }

    // every sampled token needed exactly one logits row of this sequence; stop-string tokens included
    const meterBefore = seq.tokenMeter.getState()
    let callbackError: unknown
    const stopForCallback = new AbortController()
    // Token ids travel with the text they produced: ids whose text is still held back (half a UTF-8
    // character, a possible stop string) are sent with the next text chunk, so a failover never
    // resumes from tokens whose text the client did not get.
    let pendingIds: number[] = []
    let generated = 0
    let hitLimit = false
    const emit = (text: string, ids: number[]) => {
      if (!onToken || callbackError !== undefined) return
      try {
        onToken(text, ids)
      } catch (err) {
        callbackError = err
        stopForCallback.abort(err)
      }
    }
    // Resume path: LlamaCompletion's own text drops the leading space of the first token (it has no
    // trail), so the text is rebuilt from the whole token history and sent as it grows; a trailing
    // replacement character (half a UTF-8 sequence) waits for the next token.
    const resumed: number[] = []
    let resumedText = ""
    let resumedSent = 0
    let trail: number[] = []
    const resumeText = (final: boolean) => {
      const full = this.model.detokenize([...resume, ...resumed] as never, false, trail as never)
      const base = this.model.detokenize(resume as never, false, trail as never)
      let out = full.startsWith(base) ? full.slice(base.length) : full.slice(Math.min(base.length, full.length))
      if (!final) out = out.replace(/\uFFFD+$/, "")
      return out
    }
    const options = {
      signal: AbortSignal.any([signal, stopForCallback.signal]),
      stopOnAbortSignal: true,
      maxTokens,
      temperature: req.temperature ?? 0,
      topP: req.topP,
      seed: req.seed,
      // plain sampling, as the OpenAI API means it; penalties would be explicit request fields
      repeatPenalty: false as const,
      customStopTriggers: req.stop?.filter((s) => s.length > 0),
      onToken: (tokens: number[]) => {
        pendingIds.push(...tokens)
        generated += tokens.length
        if (resume.length) {
          resumed.push(...tokens)
          resumedText = resumeText(false)
          if (resumedText.length > resumedSent) {
            const ids = pendingIds
            pendingIds = []
            emit(resumedText.slice(resumedSent), ids)
            resumedSent = resumedText.length
          }
        }
        // LlamaCompletion (the resume path) may sample one token past maxTokens: stop it ourselves.
        if (resume.length && generated >= maxTokens && !hitLimit) {
          hitLimit = true
          stopForCallback.abort()
        }
      },
      onTextChunk: (text: string) => {
        if (resume.length) return
        const ids = pendingIds
        pendingIds = []
        emit(text, ids)
      },
    }
    // raw prompts go through LlamaChat too (with a pass-through template): LlamaCompletion can
    // overshoot maxTokens by one when the limit falls inside a multi-byte character
    let chat: InstanceType<NodeLlamaCpp["LlamaChat"]> | undefined
    let completion: InstanceType<NodeLlamaCpp["LlamaCompletion"]> | undefined
    try {
      let text: string
      let stopReason: string
      if (resume.length) {
        // Failover continuation: the exact token history (rendered prompt + generated ids).
        completion = new this.nlc.LlamaCompletion({ contextSequence: seq })
        const prompt = input.contextText.tokenize(this.model.tokenizer)
        // LlamaCompletion prepends BOS itself when the model wants one; the rendered prompt has it already.
        const bos = this.model.tokens.bos
        if (bos != null && this.model.tokens.shouldPrependBosToken && prompt[0] === bos) prompt.shift()
        trail = prompt
        const tokens = [...prompt, ...resume] as Parameters<typeof completion.generateCompletionWithMeta>[0]
        const res = await completion.generateCompletionWithMeta(
          tokens,
          options as Parameters<typeof completion.generateCompletionWithMeta>[1],
        )
        const rest = resumeText(true).slice(resumedSent)
        if (rest) emit(rest, pendingIds)
        text = resumeText(true)
        stopReason = res.metadata.stopReason
      } else {
        chat = new this.nlc.LlamaChat({ contextSequence: seq, chatWrapper: input.wrapper, autoDisposeSequence: false })
        const res = await chat.generateResponse(input.history, options)
        text = res.response
        stopReason = res.metadata.stopReason
      }
      if (callbackError !== undefined) throw callbackError
      const finishReason: FinishReason = hitLimit
        ? "length"
        : stopReason === "abort"
          ? "abort"
          : stopReason === "maxTokens"
            ? "length"
            : "stop"
      const completionTokens = this.nlc.TokenMeter.diff(seq.tokenMeter, meterBefore).usedOutputTokens
      return { text, finishReason, usage: { promptTokens: input.promptTokens, completionTokens } }
    } finally {
      chat?.dispose({ disposeSequence: false })
      completion?.dispose({ disposeSequence: false })
      this.release(seq)
    }
  }

  /** Validates the request and counts its prompt tokens exactly as LlamaChat will evaluate them. */
  private prepare(req: GenerateRequest): {
    wrapper: ChatWrapper
    history: ChatHistoryItem[]
    promptTokens: number
    contextText: ReturnType<ChatWrapper["generateContextState"]>["contextText"]
  } {
    if ((req.messages === undefined) === (req.prompt === undefined))
      throw new BadRequest("exactly one of messages or prompt is required", "invalid_request")
    if (req.maxTokens !== undefined && (!Number.isInteger(req.maxTokens) || req.maxTokens < 1))
      throw new BadRequest("maxTokens must be a positive integer", "invalid_request")
    let wrapper: ChatWrapper
    let history: ChatHistoryItem[]
    if (req.prompt !== undefined) {
      wrapper = this.rawWrapper
      history = [{ type: "user", text: req.prompt }]
    } else {
      if (req.messages!.length === 0) throw new BadRequest("messages must not be empty", "invalid_request")
      wrapper = this.chatWrapper
      history = req.messages!.map((m): ChatHistoryItem => {
        switch (m.role) {
          case "system":
            return { type: "system", text: m.content }
          case "user":
            return { type: "user", text: m.content }
          case "assistant":
            return { type: "model", response: [m.content] }
          default:
            throw new BadRequest(`unknown message role ${JSON.stringify((m as ChatMessage).role)}`, "invalid_request")
        }
      })
    }
    // LlamaChat completes the last model message, adding an empty one when the history ends otherwise
    if (history.at(-1)!.type !== "model") history.push({ type: "model", response: [] })
    const { contextText } = wrapper.generateContextState({ chatHistory: history })
    const promptTokens = contextText.tokenize(this.model.tokenizer).length
    if (promptTokens === 0) throw new BadRequest("the prompt is empty", "invalid_request")
    return { wrapper, history, promptTokens, contextText }
  }

  /** A free sequence, waiting in FIFO order; null when the signal aborts first. */
  private acquire(signal: AbortSignal): Promise<LlamaContextSequence | null> {
    if (signal.aborted) return Promise.resolve(null)
    const seq = this.free.pop()
    if (seq) return Promise.resolve(seq)
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        const i = this.waiters.indexOf(waiter)
        if (i >= 0) this.waiters.splice(i, 1)
        resolve(null)
      }
      const waiter: Waiter = {
        resolve: (s) => {
          signal.removeEventListener("abort", onAbort)
          resolve(s)
        },
        reject: (e) => {
          signal.removeEventListener("abort", onAbort)
          reject(e)
        },
      }
      signal.addEventListener("abort", onAbort, { once: true })
      this.waiters.push(waiter)
    })
  }

  private release(seq: LlamaContextSequence) {
    const next = this.waiters.shift()
    if (next) next.resolve(seq)
    else this.free.push(seq)
  }
}

/**
 * The prompt verbatim, after <s> when the model wants one, followed by the generated text: raw
 * completion expressed as a chat template, tokenized exactly as LlamaCompletion would.
 */
function rawPromptWrapper(nlc: NodeLlamaCpp, model: LlamaModel): ChatWrapper {
  const bos = model.tokens.shouldPrependBosToken && model.tokens.bos != null
  class RawPromptWrapper extends nlc.ChatWrapper {
    override readonly wrapperName = "cellule-raw-prompt"
    override generateContextState({ chatHistory }: ChatWrapperGenerateContextStateOptions) {
      const texts = chatHistory.flatMap((item) =>
        item.type === "model" ? item.response.filter((r): r is string => typeof r === "string") : [String(item.text)],
      )
      return {
        contextText: nlc.LlamaText([bos ? new nlc.SpecialToken("BOS") : "", ...texts]),
        stopGenerationTriggers: [nlc.LlamaText(new nlc.SpecialToken("EOS"))],
      }
    }
  }
  return new RawPromptWrapper()
}

const disposedError = () => new CelluleError("engine_disposed", "the inference engine is shutting down", 503)

/** llama.cpp's own log lines, under our tag; its info level is chatty, so it becomes debug. */
function llamaCppLog(level: string, message: string) {
  const text = message.trimEnd()
  if (!text) return
  switch (level) {
    case "fatal":
    case "error":
      return log.error(text)
    case "warn":
      return log.warn(text)
    case "info":
      return log.debug(text)
    default:
      return log.trace(text)
  }
}
