// core/http/peer-guard — the one guard for signed pool-to-pool calls. Its onRequest hook runs before
// routing and before any body parsing: the signature is checked on the raw bytes (core/federation/
// transport.ts verifies), and only then is the body parsed and the caller remembered for the handler.
// A refused call answers through the one error mapper.
import { Elysia } from "elysia"
import { AUDIT_PEER_PATH } from "../audit/cluster-peers.ts"
import { CelluleError } from "../errors.ts"
import type { PoolServices } from "../pool/services.ts"
import type { SignedCaller } from "../federation/transport.ts"
import { CAPACITY_PATH, FORWARD_PATH } from "../scheduler/forward.ts"
import { DAILY_USAGE_PATH, KEY_USAGE_PATH } from "../auth/key-usage-sync.ts"
import { PEER_CONSUME_PATH } from "../auth/login-links.ts"
import { readLimited } from "./body.ts"
import { pathOf } from "./request-path.ts"
import { jsonError } from "./errors.ts"
import { withSecurityHeaders } from "./headers.ts"

/** What a signed call proved: the caller (and, for a bonding call, the key it presented) and its parsed body. */
export interface VerifiedCall<C> {
  caller: C
  body: any
}

export interface PeerGuard<C> {
  /** Mount before the routes it covers. */
  plugin: Elysia<any, any, any, any, any, any, any>
  /** The verified call behind `request`; throws 401 request_unsigned when it was not signed. */
  verified(request: Request): VerifiedCall<C>
}

/**
 * Signed pool-to-pool calls on the paths `covers` accepts.
 *   trust "bonding": any caller whose signature verifies with the key we hold, or the one it presents (hello);
 *   trust "trusted": a bonded peer at MIN_TRUST_LEVEL or above (forward, capacity, key usage, login links).
 */
export function peerGuard(
  s: PoolServices,
  o: { trust: "bonding"; covers: (method: string, path: string) => boolean; bodyLimit: number },
): PeerGuard<SignedCaller>
export function peerGuard(
  s: PoolServices,
  o: { trust: "trusted"; covers: (method: string, path: string) => boolean; bodyLimit: number },
): PeerGuard<string>
export function peerGuard(
  s: PoolServices,
  o: { trust: "bonding" | "trusted"; covers: (method: string, path: string) => boolean; bodyLimit: number },
): PeerGuard<unknown> {
  const calls = new WeakMap<Request, VerifiedCall<unknown>>()
  const plugin = new Elysia().onRequest(async ({ request }) => {
    const path = pathOf(request)
    if (!o.covers(request.method, path)) return
    try {
      // The head first: an unsigned or unknown caller is refused before its body is read (it once took
      // 100 unsigned 4 MiB posts to grow a pool by 800 MB). Only the bonding hello may come from a key we
      // do not hold yet, and a hello is small.
      const hello = o.trust === "bonding" && path === HELLO_PATH
      const head = await s.peers.screenHead(request, hello)
      const limit = head.via === "self_presented" ? HELLO_BODY_LIMIT : o.bodyLimit
      const bytes = request.method === "GET" ? new Uint8Array() : await readLimited(request.clone(), limit)
      const verified = o.trust === "trusted" ? await s.peers.verifyTrusted(request, bytes) : await head.verify(bytes)
      let body: unknown = {}
      if (o.trust === "bonding" && bytes.byteLength) {
        try {
          body = JSON.parse(new TextDecoder().decode(bytes))
        } catch {
          throw new CelluleError("invalid_json", "request body is not valid JSON", 400)
        }
      }
      calls.set(request, { caller: verified, body })
    } catch (e) {
      const err = e instanceof CelluleError ? e : new CelluleError("request_invalid", (e as Error).message, 400)
      return withSecurityHeaders(jsonError(err))
    }
  })
  return {
    plugin,
    verified(request) {
      const v = calls.get(request)
      if (!v) throw new CelluleError("request_unsigned", "forwarded requests must be signed by a trusted peer", 401)
      return v
    },
  }
}

/** The pool-to-pool protocol (hello, gossip, pull, high water, links): bonding callers included. */
export const P2P_PATH = "/v1/federation/p2p/"
const HELLO_PATH = `${P2P_PATH}hello`
/** A hello from a key we do not hold yet: a URL, a name, an attachment token. */
const HELLO_BODY_LIMIT = 64 * 1024

const guards = new WeakMap<PoolServices, { trusted: PeerGuard<string>; bonding: PeerGuard<SignedCaller> }>()

function guardsOf(s: PoolServices) {
  let g = guards.get(s)
  if (!g) {
    g = {
      // Forwarded inference, forward capacity, key-usage reports, spending a one-time login link: trusted peers only.
      trusted: peerGuard(s, {
        trust: "trusted",
        bodyLimit: s.config.maxJsonBodyBytes,
        covers: (method, path) =>
          (method === "POST" && path.startsWith(FORWARD_PATH)) ||
          path === CAPACITY_PATH ||
          path === KEY_USAGE_PATH ||
          path === DAILY_USAGE_PATH ||
          path === PEER_CONSUME_PATH ||
          (method === "POST" && path === AUDIT_PEER_PATH),
      }),
      // Envelope batches can be large: four times the JSON limit.
      bonding: peerGuard(s, {
        trust: "bonding",
        bodyLimit: s.config.maxJsonBodyBytes * 4,
        covers: (_method, path) => path.startsWith(P2P_PATH),
      }),
    }
    guards.set(s, g)
  }
  return g
}

/** The guard of calls from trusted peers (one per services object; mounted by app.ts's table). */
export const trustedPeerGuard = (s: PoolServices) => guardsOf(s).trusted
/** The guard of the p2p protocol (one per services object; mounted by app.ts's table). */
export const bondingPeerGuard = (s: PoolServices) => guardsOf(s).bonding
