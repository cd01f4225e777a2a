// POST /v1/completions (OpenAI legacy completions, JSON or SSE) and its forwarded twin
// POST /v1/federation/forward/completions. Validates, admits (core/gateway), runs or forwards, shapes.
import type { PoolServices } from "../../pool/services.ts"
import type { Who } from "../../gateway/admission.ts"
import { runOrForward } from "../../gateway/forward-policy.ts"
import { meter } from "../../gateway/metering.ts"
import { collect } from "../../gateway/jobs.ts"
import type { JobParams } from "../../workers/protocol.ts"
import { CompletionBody, sampling, newId, usageOf, finishOf, stream, type CompletionReq } from "../openai-api.ts"
import { generationRoutes } from "../generation-routes.ts"

export const completionRoutes = (s: PoolServices) => {
  const keys = s.apiKeys!

  function answer(body: CompletionReq, request: Request, who: Who, forwarded: boolean) {
    return runOrForward(s.forwarder, "completions", body, request.signal, who, forwarded, async () => {
      const params: JobParams = { ...sampling(body), prompt: Array.isArray(body.prompt) ? body.prompt[0] : body.prompt }
      const id = newId("cmpl")
      const created = Math.floor(s.clock.now() / 1000)
      const base = { id, object: "text_completion", created, model: body.model }
      if (body.stream) {
        return stream(
          s.scheduler,
          who,
          body.model,
          "completion",
          params,
          meter(keys, s.config.poolName, who, body.model),
          {
            includeUsage: !!body.stream_options?.include_usage,
            chunk: (delta, finish) => ({
              ...base,
              choices: [{ index: 0, text: delta, logprobs: null, finish_reason: finish }],
            }),
            usage: (usage) => ({ ...base, choices: [], usage }),
          },
        )
      }
      const { text, result } = await collect(
        s.scheduler,
        request.signal,
        who,
        body.model,
        "completion",
        params,
        meter(keys, s.config.poolName, who, body.model),
      )
      return {
        ...base,
        choices: [{ index: 0, text, logprobs: null, finish_reason: finishOf(result) }],
        usage: usageOf(result),
      }
    })
  }

  return generationRoutes<CompletionReq>(s, { path: "completions", schema: CompletionBody, answer })
}
