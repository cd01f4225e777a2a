// core/http/client-ip — who the client really is behind reverse proxies (`cellule proxy`, nginx).
// X-Forwarded-* are believed only when the TCP peer is in CELLULE_TRUSTED_PROXIES; never otherwise.
import type { Server } from "bun"
import type { CidrList } from "../config/index.ts"

interface TrustConfig {
  /** Compiled at boot by core/config. */
  trustedProxies: CidrList
}

/** The TCP peer per request: the pool asks for it in its request log, its guards and its admission. */
const peers = new WeakMap<Request, string | undefined>()

/** The request's TCP peer, asked of the server once per request (requestIP allocates an object per call). */
export function peerAddress(
  request: Request,
  server: Pick<Server<unknown>, "requestIP"> | null | undefined,
): string | undefined {
  if (peers.has(request)) return peers.get(request)
  // requestIP allocates an object each call; without a server (in-process tests) nothing is remembered.
  if (!server) return undefined
  const peer = server.requestIP(request)?.address ?? undefined
  peers.set(request, peer)
  return peer
}

function bare(ip: string): string {
  const s = ip.trim()
  // "[::1]:1234" and "10.0.0.1:1234" forms some proxies write; plain IPv6 has several colons.
  const bracket = s.match(/^\[([^\]]+)\](?::\d+)?$/)
  if (bracket) return bracket[1]
  const v4port = s.match(/^(\d+\.\d+\.\d+\.\d+):\d+$/)
  return v4port ? v4port[1] : s
}

/**
 * The client's IP: the TCP peer, unless the peer is a trusted proxy, in which case X-Forwarded-For is
 * walked from the right, skipping trusted proxies, and the first untrusted hop is the client.
 */
export function clientIp(
  request: Request,
  server: Pick<Server<unknown>, "requestIP"> | null | undefined,
  config: TrustConfig,
): string | undefined {
  const peer = peerAddress(request, server)
  const list = config.trustedProxies
  if (!list.has(peer)) return peer
  const hops = (request.headers.get("x-forwarded-for") ?? "").split(",").map(bare).filter(Boolean)
  for (let i = hops.length - 1; i >= 0; i--) if (!list.has(hops[i])) return hops[i]
  return hops[0] ?? peer
}

/** The scheme and host the client used: X-Forwarded-Proto/-Host from a trusted proxy, else the request's own. */
export function forwardedOrigin(
  request: Request,
  server: Pick<Server<unknown>, "requestIP"> | null | undefined,
  config: TrustConfig,
): { proto: "http" | "https"; host: string } {
  const peer = peerAddress(request, server)
  const list = config.trustedProxies
  const ownProto = request.url.startsWith("https:") ? "https" : "http"
  const own = () => ({ proto: ownProto, host: request.headers.get("host") ?? new URL(request.url).host }) as const
  if (!list.has(peer)) return own()
  // With several proxies the left-most value is the one the client saw.
  const proto = request.headers.get("x-forwarded-proto")?.split(",")[0].trim().toLowerCase()
  const host = request.headers.get("x-forwarded-host")?.split(",")[0].trim()
  return { proto: proto === "https" ? "https" : proto === "http" ? "http" : ownProto, host: host || own().host }
}
