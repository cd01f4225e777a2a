// POST /v1/federation/login-links/consume — a trusted peer received one of our one-time login links
// (the entry sent the browser to it) and asks us to spend it: body {token_hash} (hex SHA-256 of the
// token), answer {email} of the link's administrator, or 404 login_link_invalid. The signature and the
// caller's trust are checked by core/http/peer-guard.ts before this handler runs.
import { Elysia, t } from "elysia"
import { PEER_CONSUME_PATH } from "../../auth/login-links.ts"
import { logger } from "../../log.ts"
import type { PoolServices } from "../../pool/services.ts"
import { trustedPeerGuard } from "../peer-guard.ts"

const log = logger("auth")

export const loginLinkPeerRoutes = (s: PoolServices) => {
  const peers = trustedPeerGuard(s)
  return new Elysia().post(
    PEER_CONSUME_PATH,
    async ({ request, body }) => {
      const caller = peers.verified(request).caller
      const email = await s.admins.consumeLoginLinkForPeer(body.token_hash)
      log.info(`one-time login link of ${email} spent for peer ${caller.slice(0, 16)}…`)
      return { email }
    },
    {
      body: t.Object({ token_hash: t.String({ maxLength: 64 }) }),
      beforeHandle: ({ request }) => void peers.verified(request),
    },
  )
}
