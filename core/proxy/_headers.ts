// core/proxy/_headers — what crosses the proxy: hop-by-hop headers stay on their hop (RFC 9110 §7.6.1),
// X-Forwarded-* describe the client, and only a trusted previous proxy may have written them before us.

export const HOP_BY_HOP = [
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]

/** Remove hop-by-hop headers, including every header the Connection header names. */
export function stripHopByHop(h: Headers): Headers {
  const named = (h.get("connection") ?? "")
    .split(",")
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean)
  for (const n of [...HOP_BY_HOP, ...named]) h.delete(n)
  return h
}

export interface ClientView {
  /** The TCP peer of the proxy. */
  peer: string
  /** The client as the access log names it: the peer, or who a trusted proxy says it forwards. */
  ip: string
  /** Whether that peer is a trusted proxy (its X-Forwarded-* are kept and extended). */
  peerTrusted: boolean
  proto: "http" | "https"
  host: string
}

/** Set by a client only through a trusted proxy: we write our own. */
const FORWARDING = new Set(["x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "x-real-ip", "forwarded"])
/** fetch sets Host for the pool and Content-Length from the buffered body. */
const RECOMPUTED = new Set(["host", "content-length"])
/** Only the proxy names itself to a pool (core/proxy/identity.ts): a client cannot pose as one. */
const DROPPED = new Set([...HOP_BY_HOP, ...RECOMPUTED, "x-cellule-proxy"])

/** The headers sent to a pool for one client request (one pass over the client's headers). */
export function upstreamRequestHeaders(incoming: Headers, client: ClientView): Headers {
  const named = incoming.get("connection")
  const alsoDropped = named ? new Set(named.split(",").map((s) => s.trim().toLowerCase())) : undefined
  const h = new Headers()
  incoming.forEach((value, name) => {
    if (DROPPED.has(name) || alsoDropped?.has(name)) return
    // A client cannot pose as a proxy: its own X-Forwarded-* and Forwarded go no further.
    if (FORWARDING.has(name) && (!client.peerTrusted || name === "x-forwarded-for")) return
    h.append(name, value)
  })
  const prior = client.peerTrusted ? incoming.get("x-forwarded-for") : null
  h.set("x-forwarded-for", prior ? `${prior}, ${client.peer}` : client.peer)
  h.set("x-forwarded-proto", client.proto)
  h.set("x-forwarded-host", client.host)
  return h
}

/** The headers sent back to the client for a pool's response (copied only when some must go). */
export function clientResponseHeaders(upstream: Headers): Headers {
  return HOP_BY_HOP.some((n) => upstream.has(n)) ? stripHopByHop(new Headers(upstream)) : upstream
}
