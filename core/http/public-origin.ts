// core/http/public-origin — the pool URL written into installer scripts, enrolment snippets and the
// redeem answer. The Host header is the client's to write: it is used only when it names this machine
// (POOL_URL's host, the host name, a local address); anything else gets POOL_URL.
import { hostname, networkInterfaces } from "node:os"

/** host[:port] as RFC 3986 allows it here: DNS names, IPv4, bracketed IPv6; labels ≤ 63, name ≤ 253. */
export function validHost(host: string): boolean {
  const m = /^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(?::(\d{1,5}))?$/i.exec(host)
  if (!m) return false
  if (m[2] !== undefined && Number(m[2]) > 65535) return false
  const name = m[1]
  if (name.startsWith("[")) return true
  return name.length <= 253 && name.split(".").every((l) => l.length > 0 && l.length <= 63)
}

let local: Set<string> | undefined
let readAt = 0
/** How often a name we do not know may re-read the interfaces: an address added after boot (DHCP, a
 * VPN or veth brought up later) is ours too, but a flood of foreign Host headers must not cost a
 * syscall each. */
const REREAD_MS = 2_000

/** Whether `name` is one of this machine's names or addresses (re-read at most every REREAD_MS on a miss). */
function isLocalName(name: string): boolean {
  const now = Date.now()
  if (!local || (!local.has(name) && now - readAt >= REREAD_MS)) {
    readAt = now
    local = new Set(["localhost", "127.0.0.1", "[::1]", hostname().toLowerCase()])
    for (const addrs of Object.values(networkInterfaces()))
      for (const a of addrs ?? []) local.add(a.family === "IPv6" ? `[${a.address.split("%")[0]}]` : a.address)
  }
  return local.has(name)
}

/** `http(s)://host[:port]` a client should call back: its own Host when that names us, else POOL_URL. */
export function publicOrigin(request: Request, poolUrl: string): string {
  const fallback = new URL(poolUrl).origin
  // In process (app.handle in tests) there is no Host header: the request's URL carries it.
  let host = request.headers.get("host")
  if (host === null)
    try {
      host = new URL(request.url).host
    } catch {
      host = ""
    }
  host = host.toLowerCase()
  if (!host || !validHost(host)) return fallback
  const name = host.replace(/:\d+$/, "")
  if (name !== new URL(poolUrl).hostname.toLowerCase() && !isLocalName(name)) return fallback
  const proto = request.url.startsWith("https:") ? "https" : "http"
  return `${proto}://${host}`
}
