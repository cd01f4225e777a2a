// core/proxy/_headers — what crosses the proxy: hop-by-hop headers stay on their hop (RFC 9110 §7.6.1),
// X-Forwarded-* describe the client, and only a trusted previous proxy may have written them before us.

export const HOP_BY_HOP = ["connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade"]

/** Remove hop-by-hop headers, including every header the Connection header names. */
export function stripHopByHop(h: Headers): Headers {
  const named = (h.get("connection") ?? "").split(",").map((s) => s.trim().toLowerCase()).filter(Boolean)
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

/** The headers sent to a pool for one client request. */
export function upstreamRequestHeaders(incoming: Headers, client: ClientView): Headers {
  const h = stripHopByHop(new Headers(incoming))
  // fetch sets Host for the pool and Content-Length from the buffered body.
  h.delete("host")
  h.delete("content-length")
  const prior = client.peerTrusted ? incoming.get("x-forwarded-for") : null
  if (!client.peerTrusted) {
    // A client cannot pose as a proxy: its own X-Forwarded-* and Forwarded go no further.
    for (const n of ["x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "x-real-ip", "forwarded"]) h.delete(n)
  }
  h.set("x-forwarded-for", prior ? `${prior}, ${client.peer}` : client.peer)
  h.set("x-forwarded-proto", client.proto)
  h.set("x-forwarded-host", client.host)
  return h
}

/** The headers sent back to the client for a pool's response. */
export function clientResponseHeaders(upstream: Headers): Headers {
  return stripHopByHop(new Headers(upstream))
}
