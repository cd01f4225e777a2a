// core/http/generation-routes — the two doors of a generation endpoint: the OpenAI path a client calls
// (admitted by key or address, core/gateway/admission.ts) and its forwarded twin a trusted peer calls
// (signed, checked by peer-guard.ts, metered against the key the forwarding pool admitted). Chat and
// completions differ only in the body they take and how they answer.
import { Elysia, type TSchema } from "elysia"
import type { PoolServices } from "../pool/services.ts"
import { admit, forwardedRequester, type Who } from "../gateway/admission.ts"
import { FORWARD_PATH } from "../scheduler/forward.ts"
import { clientIp } from "./client-ip.ts"
import { trustedPeerGuard } from "./peer-guard.ts"
import { stamp } from "../metrics/ttft-trace.ts"

export function generationRoutes<B extends { model: string }>(
  s: PoolServices,
  o: {
    /** Under /v1/, e.g. "chat/completions". */
    path: string
    schema: TSchema
    answer: (body: B, request: Request, who: Who, forwarded: boolean) => unknown
  },
) {
  const keys = s.apiKeys!
  const anonymous = s.anonymous!
  const peers = trustedPeerGuard(s)
  return new Elysia()
    .post(
      `/v1/${o.path}`,
      async ({ body, request, server }) => {
        // Generations may stay quiet for minutes while queued: no idle timeout on this request.
        stamp(request, "handler")
        server?.timeout(request, 0)
        const b = body as B
        const who = await admit(keys, anonymous, request, clientIp(request, server, s.config), b.model)
        stamp(request, "admitted")
        return o.answer(b, request, who, false)
      },
      { body: o.schema },
    )
    .post(
      `${FORWARD_PATH}${o.path}`,
      async ({ body, request, server }) => {
        server?.timeout(request, 0)
        const who = await forwardedRequester(keys, request, peers.verified(request).caller, body as B)
        return o.answer(body as B, request, who, true)
      },
      { body: o.schema, beforeHandle: ({ request }) => void peers.verified(request) },
    )
}
