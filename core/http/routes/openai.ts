// The OpenAI-compatible API: /v1/models, /v1/chat/completions, /v1/completions, /v1/embeddings.
// Validates, hands the job to the scheduler, shapes OpenAI responses (JSON or SSE). No SQL here.
import { clientIp } from "../client-ip.ts"
import { Elysia, t, type Static } from "elysia"
import { randomBytes } from "node:crypto"
import type { Priority } from "../../scheduler/fair-queue.ts"
import { InvalidApiKey, isKeyId, type ApiKeys, type ApiKey } from "../../auth/api-keys.ts"
import type { AnonymousAccess } from "../../auth/anonymous-access.ts"
import { DAILY_DAYS, DAILY_USAGE_PATH, KEY_USAGE_PATH } from "../../auth/key-usage-sync.ts"
import { CelluleError, Unauthorized } from "../../errors.ts"
import { CAPACITY_PATH, FORWARD_PATH, capacityOf, type Forwarder, type ForwardKind } from "../../scheduler/forward.ts"
import { readLimited } from "../body.ts"
import { jsonError } from "../errors.ts"
import { withSecurityHeaders } from "../headers.ts"
import { logger } from "../../log.ts"

const log = logger("http.openai")
import type { Scheduler, JobKind, JobResult, Job } from "../../scheduler/scheduler.ts"
import type { JobParams, ChatMessage } from "../../workers/protocol.ts"
import { createThinkStripper } from "../../inference/think.ts"
import { sseResponse } from "../sse.ts"
import type { PoolContext } from "../context.ts"

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
const ChatBody = t.Object(
  {
    model: t.String({ minLength: 1 }),
    messages: t.Array(Message, { minItems: 1 }),
    max_completion_tokens: t.Optional(t.Nullable(t.Integer({ minimum: 1 }))),
    ...Sampling,
  },
  { additionalProperties: true },
)
const CompletionBody = t.Object(
  {
    model: t.String({ minLength: 1 }),
    prompt: t.Union([t.String(), t.Array(t.String(), { minItems: 1, maxItems: 1 })]),
    ...Sampling,
  },
  { additionalProperties: true },
)
const EmbeddingBody = t.Object(
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

function sampling(b: Sampled): JobParams {
  const p: JobParams = {}
  if (b.max_tokens != null) p.max_tokens = b.max_tokens
  if (b.temperature != null) p.temperature = b.temperature
  if (b.top_p != null) p.top_p = b.top_p
  if (b.seed != null) p.seed = b.seed
  if (b.stop != null) p.stop = (Array.isArray(b.stop) ? b.stop : [b.stop]).filter(Boolean)
  return p
}

function textOf(content: string | { type: string; text?: string }[] | null): string {
  if (content == null) return ""
  if (typeof content === "string") return content
  return content.map((p) => (p.type === "text" ? (p.text ?? "") : "")).join("")
}

const newId = (prefix: string) => `${prefix}-${randomBytes(12).toString("base64url")}`
const usageOf = (r: JobResult) => ({
  prompt_tokens: r.usage.prompt_tokens,
  completion_tokens: r.usage.completion_tokens,
  total_tokens: r.usage.prompt_tokens + r.usage.completion_tokens,
})
// OpenAI has no "abort": a cancelled generation only happens when nobody is listening.
const finishOf = (r: JobResult) => (r.finishReason === "length" ? "length" : "stop")

/** Run a job to completion, collecting text; cancels it if the HTTP client disconnects. */
/**
 * Who is asking, for fair queuing: the API key presented (hashed, never stored), else the
 * client address. Priority from `X-Cellule-Priority: batch` (scripts), default interactive.
 */
export function requester(request: Request, ip: string | undefined, key?: ApiKey | null): Omit<Who, "started"> {
  const client = key ? `key:${key.id}` : `ip:${ip ?? "unknown"}`
  const p = request.headers.get("x-cellule-priority")?.toLowerCase()
  return { client, priority: p === "batch" || p === "interactive" ? p : (key?.priority ?? "interactive") }
}
/** `keyId`: the key the usage is metered against (for a forwarded request, possibly one not replicated here yet). */
type Who = { client: string; priority: Priority; key?: ApiKey | null; keyId?: string | null; started: number }

/**
 * Who may call: a valid API key (checked against its limits), or anyone when anonymous LAN access
 * is on — then an unknown key (tools that insist on sending one) is treated as anonymous too.
 */
async function admit(
  keys: ApiKeys,
  anonymous: AnonymousAccess,
  request: Request,
  ip: string | undefined,
  model: string,
): Promise<Who> {
  const auth = request.headers.get("authorization") ?? ""
  const presented = auth.startsWith("Bearer ") ? auth.slice(7).trim() : ""
  const key = presented ? await keys.find(presented) : null
  if (!key && !(await anonymous.allowed())) {
    if (presented) throw new InvalidApiKey()
    throw new Unauthorized("an API key is required (Authorization: Bearer sk-cel-…)", "api_key_required")
  }
  if (key) await keys.admit(key, model)
  return { ...requester(request, ip, key), key, keyId: key?.id ?? null, started: performance.now() }
}

function collect(
  scheduler: Scheduler,
  request: Request,
  who: Who,
  model: string,
  kind: JobKind,
  params: JobParams,
  meter: (r: JobResult) => void,
) {
  return new Promise<{ text: string; result: JobResult }>((resolve, reject) => {
    let think = createThinkStripper()
    let text = ""
    let job: Job | undefined
    const onAbort = () => job && scheduler.cancel(job)
    job = scheduler.submit(
      model,
      kind,
      params,
      {
        onToken: (t) => (text += think.push(t)),
        onRetry: () => {
          text = ""
          think = createThinkStripper()
        },
        onDone: (result) => {
          request.signal.removeEventListener("abort", onAbort)
          meter(result)
          resolve({ text: text + think.flush(), result })
        },
        onError: (e) => {
          request.signal.removeEventListener("abort", onAbort)
          reject(e)
        },
      },
      who,
    )
    request.signal.addEventListener("abort", onAbort, { once: true })
  })
}

/** Stream a job as OpenAI SSE chunks built by `chunk(delta, finish)`. */
function stream(
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
  },
): Response {
  const think = createThinkStripper()
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
          const text = think.push(tok)
          if (text) writer.send(opts.chunk(text, null))
        }),
      onDone: (r) =>
        withWriter(() => {
          meter(r)
          const rest = think.flush()
          if (rest) writer.send(opts.chunk(rest, null))
          writer.send(opts.chunk("", finishOf(r)))
          if (opts.includeUsage) writer.send(opts.usage(usageOf(r)))
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

type ChatReq = Static<typeof ChatBody>
type CompletionReq = Static<typeof CompletionBody>
type EmbeddingReq = Static<typeof EmbeddingBody>

/** Errors that mean "not here" rather than "not possible": a bonded peer may still serve it. */
const FORWARDABLE = new Set(["no_worker_available", "queue_full", "model_not_found"])

export interface OpenAiDeps {
  scheduler: Scheduler
  keys: ApiKeys
  anonymous: AnonymousAccess
  /** Inter-pool forward (federation active); absent: answer from this pool only. */
  forwarder?: Forwarder
  /** Verify a signed pool-to-pool request; returns the caller's atom id if it is trusted enough. */
  verifyPeer?: (request: Request, body: Uint8Array) => Promise<string>
  /** Grounded chat (core/rag): a project's chunks and memories in front of the conversation, with citations. */
  ground?: Grounder
}

export type Grounder = (
  projectId: string,
  projectOfKey: string | null,
  messages: ChatMessage[],
) => Promise<{ messages: ChatMessage[]; citations: unknown[] }>

export const openaiRoutes = (deps: OpenAiDeps) => (ctx: PoolContext) => {
  const { scheduler, keys, forwarder, anonymous } = deps
  const meter = (who: Who, model: string) => (r: JobResult) =>
    void keys
      .record({
        keyId: who.keyId ?? null,
        model,
        promptTokens: r.usage.prompt_tokens,
        completionTokens: r.usage.completion_tokens,
        latencyMs: performance.now() - who.started,
        workerId: r.workerId,
        poolName: ctx.config.poolName,
      })
      .catch((e) => log.warn(`usage not recorded: ${(e as Error).message}`))

  /** Run locally; if this pool cannot, and the request did not come from a peer, try one peer. */
  async function orForward(
    kind: ForwardKind,
    body: object,
    request: Request,
    who: Who,
    forwarded: boolean,
    local: () => Promise<unknown>,
  ) {
    try {
      return await local()
    } catch (e) {
      if (forwarded || !forwarder || !(e instanceof CelluleError) || !FORWARDABLE.has(e.code)) throw e
      // The key travels inside the signed body, so the serving pool meters usage against it.
      const res = await forwarder.forward(kind, { ...body, cellule_key_id: who.key?.id }, request.signal)
      if (res) return res
      throw e
    }
  }

  /** `"cellule": {"project": …}` or X-Cellule-Project: only with an API key, scoped like the projects API. */
  async function grounding(body: ChatReq, request: Request, who: Who) {
    const project =
      (body as { cellule?: { project?: unknown } }).cellule?.project ?? request.headers.get("x-cellule-project")
    if (typeof project !== "string" || !project || !deps.ground) return null
    if (!who.key) throw new Unauthorized("grounded chat needs an API key", "api_key_required")
    const messages: ChatMessage[] = body.messages.map((m) => ({
      role: m.role === "developer" ? "system" : m.role,
      content: textOf(m.content),
    }))
    return deps.ground(project, who.key.project, messages)
  }

  async function chat(body: ChatReq, request: Request, who: Who, forwarded: boolean) {
    const grounded = forwarded ? null : await grounding(body, request, who)
    if (grounded) body = { ...body, messages: grounded.messages as ChatReq["messages"] }
    const cellule = grounded ? { cellule: { citations: grounded.citations } } : {}
    return orForward("chat/completions", body, request, who, forwarded, async () => {
      const messages: ChatMessage[] = body.messages.map((m) => ({
        role: m.role === "developer" ? "system" : m.role,
        content: textOf(m.content),
      }))
      const params: JobParams = { ...sampling(body), messages }
      if (body.max_completion_tokens != null && params.max_tokens == null)
        params.max_tokens = body.max_completion_tokens
      const id = newId("chatcmpl")
      const created = Math.floor(ctx.clock.now() / 1000)
      const base = {
        id,
        object: "chat.completion.chunk",
        created,
        model: body.model,
        system_fingerprint: ctx.config.poolName,
      }
      if (body.stream) {
        return stream(scheduler, who, body.model, "chat", params, meter(who, body.model), {
          includeUsage: !!body.stream_options?.include_usage,
          first: () => ({
            ...base,
            choices: [{ index: 0, delta: { role: "assistant", content: "" }, logprobs: null, finish_reason: null }],
          }),
          chunk: (delta, finish) => ({
            ...base,
            choices: [{ index: 0, delta: finish ? {} : { content: delta }, logprobs: null, finish_reason: finish }],
            // Citations ride on the final chunk, the one with finish_reason.
            ...(finish ? cellule : {}),
          }),
          usage: (usage) => ({ ...base, choices: [], usage }),
        })
      }
      const { text, result } = await collect(
        scheduler,
        request,
        who,
        body.model,
        "chat",
        params,
        meter(who, body.model),
      )
      return {
        id,
        object: "chat.completion",
        created,
        model: body.model,
        system_fingerprint: ctx.config.poolName,
        choices: [
          {
            index: 0,
            message: { role: "assistant", content: text, refusal: null },
            logprobs: null,
            finish_reason: finishOf(result),
          },
        ],
        usage: usageOf(result),
        ...cellule,
      }
    })
  }

  function completion(body: CompletionReq, request: Request, who: Who, forwarded: boolean) {
    return orForward("completions", body, request, who, forwarded, async () => {
      const params: JobParams = { ...sampling(body), prompt: Array.isArray(body.prompt) ? body.prompt[0] : body.prompt }
      const id = newId("cmpl")
      const created = Math.floor(ctx.clock.now() / 1000)
      const base = { id, object: "text_completion", created, model: body.model }
      if (body.stream) {
        return stream(scheduler, who, body.model, "completion", params, meter(who, body.model), {
          includeUsage: !!body.stream_options?.include_usage,
          chunk: (delta, finish) => ({
            ...base,
            choices: [{ index: 0, text: delta, logprobs: null, finish_reason: finish }],
          }),
          usage: (usage) => ({ ...base, choices: [], usage }),
        })
      }
      const { text, result } = await collect(
        scheduler,
        request,
        who,
        body.model,
        "completion",
        params,
        meter(who, body.model),
      )
      return {
        ...base,
        choices: [{ index: 0, text, logprobs: null, finish_reason: finishOf(result) }],
        usage: usageOf(result),
      }
    })
  }

  function embeddings(body: EmbeddingReq, request: Request, who: Who, forwarded: boolean) {
    return orForward("embeddings", body, request, who, forwarded, async () => {
      const input = Array.isArray(body.input) ? body.input : [body.input]
      const { result } = await collect(
        scheduler,
        request,
        who,
        body.model,
        "embedding",
        { input },
        meter(who, body.model),
      )
      const vectors = result.embeddings ?? []
      return {
        object: "list",
        model: body.model,
        data: vectors.map((v, index) => ({
          object: "embedding",
          index,
          embedding: body.encoding_format === "base64" ? Buffer.from(new Float32Array(v).buffer).toString("base64") : v,
        })),
        usage: { prompt_tokens: result.usage.prompt_tokens, total_tokens: result.usage.prompt_tokens },
      }
    })
  }

  // Pool-to-pool forward: the signature is checked on the raw bytes before the body is parsed.
  const peerOf = new WeakMap<Request, string>()
  const peerWho = async (request: Request, body: object): Promise<Who> => {
    const keyId = (body as { cellule_key_id?: unknown }).cellule_key_id
    const p = request.headers.get("x-cellule-priority")?.toLowerCase()
    const id = isKeyId(keyId) ? keyId : null
    const key = id ? await keys.byId(id) : null
    // The peer admitted the key; a key created there a moment ago may not have reached this pool yet,
    // and its use is still metered against it (the usage row names the id; the name follows with it).
    return {
      client: id ? `key:${id}` : `peer:${peerOf.get(request)}`,
      priority: p === "batch" ? "batch" : (key?.priority ?? "interactive"),
      key,
      keyId: id,
      started: performance.now(),
    }
  }
  const requirePeer = ({ request }: { request: Request }) => {
    if (!peerOf.has(request))
      throw new CelluleError("request_unsigned", "forwarded requests must be signed by a trusted peer", 401)
  }

  return (
    new Elysia()
      .onRequest(async ({ request }) => {
        const path = new URL(request.url).pathname
        if (
          !deps.verifyPeer ||
          !(
            (request.method === "POST" && path.startsWith(FORWARD_PATH)) ||
            path === CAPACITY_PATH ||
            path === KEY_USAGE_PATH ||
            path === DAILY_USAGE_PATH
          )
        )
          return
        try {
          const bytes =
            request.method === "GET"
              ? new Uint8Array()
              : await readLimited(request.clone(), ctx.config.maxJsonBodyBytes)
          peerOf.set(request, await deps.verifyPeer(request, bytes))
        } catch (e) {
          const err = e instanceof CelluleError ? e : new CelluleError("request_invalid", (e as Error).message, 400)
          return withSecurityHeaders(jsonError(err))
        }
      })
      .get(CAPACITY_PATH, ({ request }) => {
        requirePeer({ request })
        return { models: capacityOf(scheduler), workers: scheduler.workers.size }
      })
      // What this pool counted per API key, so peers enforce limits cluster-wide (key-usage-sync.ts).
      .get(KEY_USAGE_PATH, ({ request }) => {
        requirePeer({ request })
        return keys.report()
      })
      .get(DAILY_USAGE_PATH, async ({ request }) => {
        requirePeer({ request })
        return { rows: await keys.usage(DAILY_DAYS) }
      })
      .get("/v1/models", () => ({
        object: "list",
        data: scheduler.liveModels().map((m) => ({
          id: m.id,
          object: "model",
          created: Math.floor(ctx.startedAt / 1000),
          owned_by: ctx.config.poolName,
          cellule: { kind: m.kind, workers: m.workers, slots: m.slots },
        })),
      }))
      .post(
        "/v1/chat/completions",
        async ({ body, request, server }) => {
          server?.timeout(request, 0)
          return chat(
            body,
            request,
            await admit(keys, anonymous, request, clientIp(request, server, ctx.config), body.model),
            false,
          )
        },
        { body: ChatBody },
      )
      .post(
        "/v1/completions",
        async ({ body, request, server }) => {
          server?.timeout(request, 0)
          return completion(
            body,
            request,
            await admit(keys, anonymous, request, clientIp(request, server, ctx.config), body.model),
            false,
          )
        },
        { body: CompletionBody },
      )
      .post(
        "/v1/embeddings",
        async ({ body, request, server }) =>
          embeddings(
            body,
            request,
            await admit(keys, anonymous, request, clientIp(request, server, ctx.config), body.model),
            false,
          ),
        { body: EmbeddingBody },
      )
      .post(
        `${FORWARD_PATH}chat/completions`,
        async ({ body, request, server }) => {
          server?.timeout(request, 0)
          return chat(body, request, await peerWho(request, body), true)
        },
        { body: ChatBody, beforeHandle: requirePeer },
      )
      .post(
        `${FORWARD_PATH}completions`,
        async ({ body, request, server }) => {
          server?.timeout(request, 0)
          return completion(body, request, await peerWho(request, body), true)
        },
        { body: CompletionBody, beforeHandle: requirePeer },
      )
      .post(
        `${FORWARD_PATH}embeddings`,
        async ({ body, request }) => embeddings(body, request, await peerWho(request, body), true),
        { body: EmbeddingBody, beforeHandle: requirePeer },
      )
  )
}
