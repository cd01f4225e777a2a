// The pool VIP (admin guide §4.7, core/vip): GET /v1/cluster/vip-info (what a joining pool needs to join
// the VRRP group), GET /v1/cluster/vip-self (this pool's role: settings and the state `cellule vip`
// reports) and POST /v1/cluster/vip-self (that report). Who reads the VRRP password:
//   vip-info: an administrator (session or trusted-network header) or a trusted bonded peer (signed call);
//   vip-self: only the `cellule vip` sidecar on this host, which presents the agent token from the data dir.
// Anyone else gets 401: the VIP's layout is not for anonymous callers either.
import { Elysia } from "elysia"
import { Unauthorized } from "../../errors.ts"
import type { PoolServices } from "../../pool/services.ts"
import { H_SIG } from "../../federation/transport.ts"
import { clientIp } from "../client-ip.ts"
import { resolveAdmin } from "../guards.ts"

export const VIP_INFO_PATH = "/v1/cluster/vip-info"
export const VIP_SELF_PATH = "/v1/cluster/vip-self"

const bearer = (request: Request) => /^Bearer\s+(\S+)$/i.exec(request.headers.get("authorization") ?? "")?.[1] ?? null

export const vipRoutes = (s: PoolServices) => {
  const vip = s.vip!
  const isAdmin = async (request: Request, server: unknown) =>
    !!(await resolveAdmin(s, request, clientIp(request, server as never, s.config)))
  return new Elysia()
    .get(VIP_INFO_PATH, async ({ request, server }) => {
      // A signed call is checked first and only as such: a bad signature is never retried as an admin.
      if (request.headers.get(H_SIG)) {
        await s.peers.verifyTrusted(request, new Uint8Array())
        return vip.info(true)
      }
      if (await isAdmin(request, server)) return vip.info(true)
      throw new Unauthorized(
        "an administrator or a trusted bonded pool may read the VIP settings",
        "admin_auth_required",
      )
    })
    .get(VIP_SELF_PATH, async ({ request, server }) => {
      if (vip.isAgent(bearer(request))) return vip.self(true)
      if (await isAdmin(request, server)) return vip.self(false)
      throw new Unauthorized(
        "an administrator or this host's `cellule vip` may read the VIP state",
        "admin_auth_required",
      )
    })
    .post(VIP_SELF_PATH, async ({ request, body }) => {
      if (!vip.isAgent(bearer(request)))
        throw new Unauthorized(
          "only this host's `cellule vip` (agent token) reports the VIP state",
          "vip_agent_required",
        )
      vip.record((body ?? {}) as Record<string, unknown>)
      return vip.self(false)
    })
}
