// core/http/_cidr — "is this IP inside one of these CIDRs", IPv4 and IPv6 (incl. v4-mapped).
import { BlockList, isIP } from "node:net"
import { ConfigError } from "../errors.ts"

export function cidrList(cidrs: string[], setting = "CELLULE_TRUSTED_NETWORKS"): BlockList {
  const list = new BlockList()
  for (const c of cidrs) {
    const [addr, bits] = c.split("/")
    const family = isIP(addr)
    if (!family) throw new ConfigError(`${setting}: "${c}" is not an IP address or CIDR`)
    const prefix = bits === undefined ? (family === 4 ? 32 : 128) : Number(bits)
    if (!Number.isInteger(prefix) || prefix < 0 || prefix > (family === 4 ? 32 : 128))
      throw new ConfigError(`${setting}: bad prefix in "${c}"`)
    list.addSubnet(addr, prefix, family === 4 ? "ipv4" : "ipv6")
  }
  return list
}

export function ipIn(list: BlockList, ip: string | undefined): boolean {
  if (!ip) return false
  const v4 = ip.startsWith("::ffff:") ? ip.slice(7) : ip
  const family = isIP(v4)
  if (!family) return false
  return list.check(v4, family === 4 ? "ipv4" : "ipv6")
}
