// core/http/openai-api — the OpenAI wire format shared by the chat, completions and embeddings routes:
// request schemas, sampling parameters, usage and finish reasons, and a job streamed as SSE chunks.
import { t, type Static } from "elysia"
import { randomBytes } from "node:crypto"
import type { CelluleError } from "../errors.ts"
import type { Job, JobKind, JobResult, Scheduler } from "../scheduler/scheduler.ts"
import type { JobParams } from "../workers/protocol.ts"
import { createThinkStripper } from "../inference/think.ts"
import type { TextFilter } from "../inference/preamble.ts"
import type { Who } from "../gateway/admission.ts"
import { sseResponse } from "./sse.ts"
import { micros, type TtftStamps } from "../metrics/ttft-trace.ts"

const ContentPart = t.Object({ type: t.String(), text: t.Optional(t.String()) }, { additionalProperties: true })
const Message = t.Object(
  {
    role: t.Union([
      t.Literal("system"),
      t.Literal("user"),
      t.Literal("assistant"),
      t.Literal("developer"),
      t.Literal("tool"),
    ]),
    content: t.Union([t.String(), t.Array(ContentPart), t.Null()]),
  },
  { additionalProperties: true },
)
const Stop = t.Optional(t.Union([t.String(), t.Array(t.String(), { maxItems: 4 }), t.Null()]))
const Sampling = {
  max_tokens: t.Optional(t.Nullable(t.Integer({ minimum: 1, maximum: 131072 }))),
  temperature: t.Optional(t.Nullable(t.Number({ minimum: 0, maximum: 2 }))),
  top_p: t.Optional(t.Nullable(t.Number({ minimum: 0, maximum: 1 }))),
  seed: t.Optional(t.Nullable(t.Integer())),
  stop: Stop,
  stream: t.Optional(t.Nullable(t.Boolean())),
  stream_options: t.Optional(
    t.Nullable(t.Object({ include_usage: t.Optional(t.Boolean()) }, { additionalProperties: true })),
  ),
  n: t.Optional(t.Nullable(t.Literal(1))),
  user: t.Optional(t.String()),
}
export const ChatBody = t.Object(
  {
    model: t.String({ minLength: 1 }),
    messages: t.Array(Message, { minItems: 1 }),
    max_completion_tokens: t.Optional(t.Nullable(t.Integer({ minimum: 1, maximum: 131072 }))),
    ...Sampling,
  },
  { additionalProperties: true },
)
export const CompletionBody = t.Object(
  {
    model: t.String({ minLength: 1 }),
    prompt: t.Union([t.String(), t.Array(t.String(), { minItems: 1, maxItems: 1 })]),
    ...Sampling,
  },
  { additionalProperties: true },
)
export const EmbeddingBody = t.Object(
  {
    model: t.String({ minLength: 1 }),
    input: t.Union([t.String(), t.Array(t.String(), { minItems: 1, maxItems: 2048 })]),
    encoding_format: t.Optional(t.Union([t.Literal("float"), t.Literal("base64")])),
    dimensions: t.Optional(t.Integer()),
    user: t.Optional(t.String()),
  },
  { additionalProperties: true },
)

type Sampled = {
  max_tokens?: number | null
  temperature?: number | null
  top_p?: number | null
  seed?: number | null
  stop?: string | string[] | null
}

export function sampling(b: Sampled): JobParams {
  const p: JobParams = {}
  if (b.max_tokens != null) p.max_tokens = b.max_tokens
  if (b.temperature != null) p.temperature = b.temperature
  if (b.top_p != null) p.top_p = b.top_p
  if (b.seed != null) p.seed = b.seed
  if (b.stop != null) p.stop = (Array.isArray(b.stop) ? b.stop : [b.stop]).filter(Boolean)
  return p
}

export function textOf(content: string | { type: string; text?: string }[] | null): string {
  if (content == null) return ""
  if (typeof content === "string") return content
  return content.map((p) => (p.type === "text" ? (p.text ?? "") : "")).join("")
}

export const newId = (prefix: string) => `${prefix}-${randomBytes(12).toString("base64url")}`
export const usageOf = (r: JobResult) => ({
  prompt_tokens: r.usage.prompt_tokens,
  completion_tokens: r.usage.completion_tokens,
  total_tokens: r.usage.prompt_tokens + r.usage.completion_tokens,
})
// OpenAI has no "abort": a cancelled generation only happens when nobody is listening.
export const finishOf = (r: JobResult) => (r.finishReason === "length" ? "length" : "stop")

export type ChatReq = Static<typeof ChatBody>
export type CompletionReq = Static<typeof CompletionBody>
export type EmbeddingReq = Static<typeof EmbeddingBody>

/** Stream a job as OpenAI SSE chunks built by `chunk(delta, finish)`. */
export function stream(
  scheduler: Scheduler,
  who: Who,
  model: string,
  kind: JobKind,
  params: JobParams,
  meter: (r: JobResult) => void,
  opts: {
    includeUsage: boolean
    first?: () => unknown
    chunk: (delta: string, finish: string | null) => unknown
    usage: (u: ReturnType<typeof usageOf>) => unknown
    /** What the answer's text goes through (the chat route's guidance); default: the <think> strip. */
    filter?: () => TextFilter
    /** bench/ttft's stamps (core/metrics/ttft-trace.ts), only when CELLULE_TTFT_TRACE is on. */
    trace?: TtftStamps
  },
): Response {
  const trace = opts.trace
  const think = (opts.filter ?? createThinkStripper)()
  let job: Job | undefined
  // submit() throws synchronously (404/429/503) before any byte is sent, so errors stay plain JSON.
  let writer!: Parameters<Parameters<typeof sseResponse>[0]>[0]
  const pending: (() => void)[] = []
  const withWriter = (fn: () => void) => (writer ? fn() : pending.push(fn))
  job = scheduler.submit(
    model,
    kind,
    params,
    {
      resumable: true,
      onToken: (tok) =>
        withWriter(() => {
          if (trace) trace.token ??= micros()
          const text = think.push(tok)
          if (text) writer.send(opts.chunk(text, null))
          if (trace && text) trace.sse ??= micros()
        }),
      onDone: (r) =>
        withWriter(() => {
          meter(r)
          const rest = think.flush()
          if (rest) writer.send(opts.chunk(rest, null))
          writer.send(opts.chunk("", finishOf(r)))
          if (opts.includeUsage) writer.send(opts.usage(usageOf(r)))
          if (trace) writer.comment(`ttft-trace ${JSON.stringify(trace)}`)
          writer.send("[DONE]")
          writer.close()
        }),
      onError: (e: CelluleError) =>
        withWriter(() => {
          writer.send({ error: { message: e.message, type: "server_error", code: e.code } })
          writer.send("[DONE]")
          writer.close()
        }),
    },
    who,
  )
  return sseResponse(
    (w) => {
      writer = w
      if (opts.first) w.send(opts.first())
      for (const fn of pending.splice(0)) fn()
    },
    () => job && scheduler.cancel(job),
  )
}
