// POST /v1/embeddings (OpenAI embeddings, float or base64) and its forwarded twin
// POST /v1/federation/forward/embeddings. Validates, admits (core/gateway), runs or forwards, shapes.
import { Elysia } from "elysia"
import type { PoolServices } from "../../pool/services.ts"
import { admit, forwardedRequester, type Who } from "../../gateway/admission.ts"
import { runOrForward } from "../../gateway/forward-policy.ts"
import { meter } from "../../gateway/metering.ts"
import { collect } from "../../gateway/jobs.ts"
import { FORWARD_PATH } from "../../scheduler/forward.ts"
import { clientIp } from "../client-ip.ts"
import { EmbeddingBody, type EmbeddingReq } from "../openai-api.ts"
import { trustedPeerGuard } from "../peer-guard.ts"

export const embeddingsRoutes = (s: PoolServices) => {
  const keys = s.apiKeys!
  const anonymous = s.anonymous!
  const peers = trustedPeerGuard(s)

  function answer(body: EmbeddingReq, request: Request, who: Who, forwarded: boolean) {
    return runOrForward(s.forwarder, "embeddings", body, request.signal, who, forwarded, async () => {
      const input = Array.isArray(body.input) ? body.input : [body.input]
      const { result } = await collect(
        s.scheduler,
        request.signal,
        who,
        body.model,
        "embedding",
        { input },
        meter(keys, s.config.poolName, who, body.model),
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

  return new Elysia()
    .post(
      "/v1/embeddings",
      async ({ body, request, server }) => {
        const who = await admit(keys, anonymous, request, clientIp(request, server, s.config), body.model)
        return answer(body, request, who, false)
      },
      { body: EmbeddingBody },
    )
    .post(
      `${FORWARD_PATH}embeddings`,
      async ({ body, request }) => {
        const who = await forwardedRequester(keys, request, peers.verified(request).caller, body)
        return answer(body, request, who, true)
      },
      { body: EmbeddingBody, beforeHandle: ({ request }) => void peers.verified(request) },
    )
}
