// POST /v1/chat/completions (OpenAI chat, JSON or SSE) and its forwarded twin
// POST /v1/federation/forward/chat/completions (a trusted peer's signed call, checked by peer-guard.ts).
// Validates, admits (core/gateway), runs or forwards the job, shapes the OpenAI answer.
import type { PoolServices } from "../../pool/services.ts"
import type { Who } from "../../gateway/admission.ts"
import { runOrForward } from "../../gateway/forward-policy.ts"
import { meter } from "../../gateway/metering.ts"
import { collect } from "../../gateway/jobs.ts"
import { forwardedCitations, groundChat, groundingProject, withCitations } from "../../gateway/grounding.ts"
import type { ChatMessage, JobParams } from "../../workers/protocol.ts"
import { ChatBody, sampling, textOf, newId, usageOf, finishOf, stream, type ChatReq } from "../openai-api.ts"
import { generationRoutes } from "../generation-routes.ts"
import { answerFilter, withSystemPrompt } from "../../gateway/guidance.ts"
import { AUTO_MODEL } from "../../gateway/smart-routing.ts"
import { requireFeature } from "../license-gate.ts"
import { stamp, ttftTrace } from "../../metrics/ttft-trace.ts"

export const chatRoutes = (s: PoolServices) => {
  const keys = s.apiKeys!

  const toMessages = (body: ChatReq): ChatMessage[] =>
    body.messages.map((m) => ({ role: m.role === "developer" ? "system" : m.role, content: textOf(m.content) }))

  async function answer(body: ChatReq, request: Request, who: Who, forwarded: boolean) {
    // model "auto" (§2.1, core/gateway/smart-routing.ts): the closest tier's model serves and is named;
    // with no tier assigned, "auto" goes on to the MoE profile's choice in the scheduler.
    if (body.model === AUTO_MODEL && s.smartRouter && (await s.smartRouter.configured())) {
      await requireFeature(s, "smart_routing")
      const users = body.messages.filter((m) => m.role === "user")
      // a key restricted to some models lists "auto" to get here, and only its models can serve
      const models = who.key?.models
      const choice = await s.smartRouter.route(
        textOf(users.at(-1)?.content ?? null),
        models ? (m) => models.includes(m) : undefined,
      )
      body = { ...body, model: choice.model }
    }
    // whether the client said how to behave, before grounding adds its own system message
    const clientSystem = body.messages.some((m) => m.role === "system" || m.role === "developer")
    // Grounded chat (core/gateway/grounding.ts): the forwarded twin receives an already grounded body.
    const grounded = forwarded ? null : await groundChat(s.rag, body, request, who, toMessages(body))
    if (grounded) {
      body = { ...body, messages: grounded.messages as ChatReq["messages"] }
      // a grounded answer read the project's documents: a search in the audit log (strict grade)
      s.audit.recordDetached({
        actor: { kind: "api_key", id: who.key!.id },
        action: "document.search",
        project: groundingProject(body, request),
        outcome: "success",
        details: {
          via: "grounded_chat",
          citations: grounded.citations.length,
          documents: [...new Set(grounded.citations.map((c) => c.document_id))],
        },
      })
    }
    // A peer answering a request this pool grounded gets its citations in the signed body (grounding.ts).
    const citations = forwarded ? forwardedCitations(body) : (grounded?.citations ?? null)
    const cellule = citations ? { cellule: { citations } } : {}
    const outgoing = withCitations(body, grounded?.citations ?? null)
    return runOrForward(s.forwarder, "chat/completions", outgoing, request.signal, who, forwarded, async () => {
      // §4.9 guidance (core/gateway/guidance.ts): SYSTEM_PROMPT, the <think> strip, the preamble filter.
      const rules = await s.guidance?.rules(body.model)
      const messages = rules ? withSystemPrompt(toMessages(body), rules, clientSystem) : toMessages(body)
      const filter = rules ? answerFilter(rules) : undefined
      const params: JobParams = { ...sampling(body), messages }
      if (body.max_completion_tokens != null && params.max_tokens == null)
        params.max_tokens = body.max_completion_tokens
      const id = newId("chatcmpl")
      const created = Math.floor(s.clock.now() / 1000)
      const base = {
        id,
        object: "chat.completion.chunk",
        created,
        model: body.model,
        system_fingerprint: s.config.poolName,
      }
      if (body.stream) {
        stamp(request, "submit")
        const res = stream(
          s.scheduler,
          who,
          body.model,
          "chat",
          params,
          meter(keys, s.config.poolName, who, body.model),
          {
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
            filter,
            trace: ttftTrace(request),
          },
        )
        stamp(request, "submitted")
        return res
      }
      const { text, result } = await collect(
        s.scheduler,
        request.signal,
        who,
        body.model,
        "chat",
        params,
        meter(keys, s.config.poolName, who, body.model),
        filter,
      )
      return {
        id,
        object: "chat.completion",
        created,
        // "auto": the model the MoE profile chose (core/scheduler/scheduler.ts moeChoice).
        model: result.model ?? body.model,
        system_fingerprint: s.config.poolName,
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

  return generationRoutes<ChatReq>(s, { path: "chat/completions", schema: ChatBody, answer })
}
