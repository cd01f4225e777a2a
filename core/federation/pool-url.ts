// core/federation/pool-url — POOL_URL must be reachable by every other pool (admin guide §4.5 P1).
import { isIP } from "node:net"
import { CelluleError } from "../errors.ts"

/** Why a URL cannot be advertised to peers, or null when it looks routable. */
export function unroutableReason(url: string): string | null {
  let host: string
  try {
    host = new URL(url).hostname.replace(/^\[|\]$/g, "").toLowerCase()
  } catch {
    return "it is not a URL"
  }
  if (host === "localhost" || host.endsWith(".localhost")) return "it is loopback (localhost)"
  if (isIP(host) === 4 && (host.startsWith("127.") || host === "0.0.0.0")) return "it is a loopback address"
  if (isIP(host) === 6 && (host === "::1" || host === "::")) return "it is a loopback address"
  if (!isIP(host)) {
    if (!host.includes("."))
      return `"${host}" is a single-label name, which looks Docker-internal (resolves only on its own host)`
    if (host.endsWith(".docker.internal") || host.endsWith(".internal")) return `"${host}" is a Docker-internal name`
  }
  return null
}

export class PoolUrlUnroutable extends CelluleError {
  constructor(url: string, reason: string) {
    super(
      "pool_url_unroutable",
      `POOL_URL ${url} cannot be used for federation: ${reason}`,
      409,
      "set POOL_URL to an address every other pool can reach: an internal DNS name (http://pool-a.company.local:18091) or a LAN IP (http://10.0.1.5:18091); a Docker-internal name only works on its own host (admin guide §4.5 P1)",
    )
  }
}

/** Throw unless `url` is routable (or loopback is explicitly allowed for tests). */
export function assertRoutable(url: string, allowLoopback: boolean) {
  if (allowLoopback) return
  const reason = unroutableReason(url)
  if (reason) throw new PoolUrlUnroutable(url, reason)
}
