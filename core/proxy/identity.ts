// core/proxy/identity — how a `cellule proxy` names itself to the pools behind it, and how a pool keeps
// the proxies it has seen (Overview §0.1: "proxies seen"). The proxy sends X-Cellule-Proxy on its health
// checks and discovery calls (`id=…; name=…; url=…`); a client's own header never crosses the proxy.
// The pool keeps them in memory with their last-seen time: a live proxy checks every pool each health
// interval (5 s by default), so a restarted pool knows every live proxy again within seconds, and a
// record per check would write the database every few seconds for a value only the Overview reads.
import { createHash } from "node:crypto"

export const PROXY_HEADER = "x-cellule-proxy"

export interface ProxyIdentity {
  /** Stable for one name and address: the same proxy restarted keeps its id. */
  id: string
  name: string
  /** The address the proxy listens on. */
  url: string
}

export function proxyIdentity(name: string, url: string): ProxyIdentity {
  const id = createHash("sha256").update(`${name}\n${url}`).digest("hex").slice(0, 12)
  return { id, name, url }
}

export const proxyHeaderValue = (p: ProxyIdentity) =>
  `id=${p.id}; name=${encodeURIComponent(p.name)}; url=${encodeURIComponent(p.url)}`

/** The header's identity, or null when it is not one a proxy wrote (bad shape, sizes). */
export function parseProxyHeader(value: string | null | undefined): ProxyIdentity | null {
  if (!value || value.length > 600) return null
  const fields = new Map<string, string>()
  for (const part of value.split(";")) {
    const eq = part.indexOf("=")
    if (eq < 0) return null
    try {
      fields.set(part.slice(0, eq).trim(), decodeURIComponent(part.slice(eq + 1).trim()))
    } catch {
      return null
    }
  }
  const id = fields.get("id") ?? ""
  const name = fields.get("name") ?? ""
  const url = fields.get("url") ?? ""
  // A host name (letters, digits, dots, dashes, underscores): nothing that could mark up the Overview.
  if (!/^[0-9a-f]{12}$/.test(id) || !/^[\w.-]{1,128}$/.test(name) || !/^https?:\/\/[\w.:[\]-]{1,200}$/.test(url))
    return null
  return { id, name, url }
}

export interface ProxySeen extends ProxyIdentity {
  /** The address the pool saw the request come from. */
  from: string
  first_seen: string
  last_seen: string
}

/** The proxies that reached this pool, newest first; at most `max`, the longest unseen dropped first. */
export class ProxiesSeen {
  private readonly seen = new Map<string, { p: ProxyIdentity; from: string; first: number; last: number }>()

  constructor(
    private readonly now: () => number = Date.now,
    private readonly max = 256,
  ) {}

  record(p: ProxyIdentity, from: string) {
    const t = this.now()
    const old = this.seen.get(p.id)
    this.seen.delete(p.id)
    this.seen.set(p.id, { p, from, first: old?.first ?? t, last: t })
    if (this.seen.size > this.max) this.seen.delete(this.seen.keys().next().value as string)
  }

  /** Seen within `withinMs` (default: the last hour). */
  list(withinMs = 3_600_000): ProxySeen[] {
    const since = this.now() - withinMs
    return [...this.seen.values()]
      .filter((e) => e.last >= since)
      .sort((a, b) => b.last - a.last)
      .map((e) => ({
        ...e.p,
        from: e.from,
        first_seen: new Date(e.first).toISOString(),
        last_seen: new Date(e.last).toISOString(),
      }))
  }
}
