// core/config/cidr — CIDR lists (CELLULE_TRUSTED_NETWORKS, CELLULE_TRUSTED_PROXIES) compiled once, at boot,
// so a typo stops start-up naming the variable instead of failing on the first request that needs it.
import { BlockList, isIP } from "node:net"
import { ConfigError } from "../errors.ts"

/** A parsed CIDR list: `has(ip)` for IPv4 and IPv6 (v4-mapped too); prints as the CIDRs it was built from. */
export interface CidrList {
  readonly cidrs: readonly string[]
  readonly length: number
  has(ip: string | undefined): boolean
}

/** Compile `cidrs`; `setting` (a variable or flag name) is named in the error on a bad entry. */
export function cidrList(cidrs: readonly string[], setting: string): CidrList {
  const list = new BlockList()
  for (const c of cidrs) {
    const [addr, bits, extra] = c.split("/")
    const family = isIP(addr)
    if (!family || extra !== undefined) throw new ConfigError(`${setting}: "${c}" is not an IP address or CIDR`)
    const prefix = bits === undefined ? (family === 4 ? 32 : 128) : Number(bits)
    if (!/^\d*$/.test(bits ?? "") || !Number.isInteger(prefix) || prefix < 0 || prefix > (family === 4 ? 32 : 128))
      throw new ConfigError(`${setting}: bad prefix in "${c}"`)
    list.addSubnet(addr, prefix, family === 4 ? "ipv4" : "ipv6")
  }
  const frozen = Object.freeze([...cidrs])
  return Object.freeze({
    cidrs: frozen,
    length: frozen.length,
    has(ip: string | undefined) {
      if (!ip) return false
      const v4 = ip.startsWith("::ffff:") ? ip.slice(7) : ip
      const family = isIP(v4)
      if (!family) return false
      return list.check(v4, family === 4 ? "ipv4" : "ipv6")
    },
    toJSON: () => frozen,
    toString: () => frozen.join(","),
  })
}
