// core/vip/net — the VIP's addresses (admin guide §4.7), pure: IPv4 parsing and subnets, this host's LAN
// interfaces, the VRRP password generator, and the wizard's HA network step validation (per-field codes
// the views translate: setup.err.<code>).
import { randomInt } from "node:crypto"
import { networkInterfaces } from "node:os"

export type FieldErrors = Record<string, string>

/** An IPv4 address as a 32-bit unsigned number, or null. */
export function ipv4(s: string): number | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s.trim())
  if (!m) return null
  const parts = m.slice(1, 5).map(Number)
  if (parts.some((p) => p > 255)) return null
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0
}

export const ipString = (n: number) => [24, 16, 8, 0].map((s) => (n >>> s) & 255).join(".")
const mask = (prefix: number) => (prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0)
export const networkOf = (ip: number, prefix: number) => (ip & mask(prefix)) >>> 0
export const sameSubnet = (a: number, b: number, prefix: number) => networkOf(a, prefix) === networkOf(b, prefix)
/** "192.168.1.0/24" for 192.168.1.251 and 24. */
export const cidrOf = (address: string, prefix: number) => `${ipString(networkOf(ipv4(address)!, prefix))}/${prefix}`

/** One IPv4 address of this host (loopback left out). */
export interface LocalAddress {
  iface: string
  address: string
  prefix: number
}

export function localAddresses(): LocalAddress[] {
  const out: LocalAddress[] = []
  for (const [iface, list] of Object.entries(networkInterfaces()))
    for (const a of list ?? [])
      if (a.family === "IPv4" && !a.internal && a.cidr)
        out.push({ iface, address: a.address, prefix: Number(a.cidr.split("/")[1]) })
  return out
}

/** The interface whose subnet holds `address` (the VIP goes on it), or null. */
export function interfaceFor(address: string, local: LocalAddress[]): string | null {
  const ip = ipv4(address)
  if (ip === null) return null
  return local.find((l) => sameSubnet(ip, ipv4(l.address)!, l.prefix))?.iface ?? null
}

/** Whether `address` is on one of this host's interfaces (keepalived holds the VIP here). */
export const holdsAddress = (address: string, local: LocalAddress[] = localAddresses()) =>
  local.some((l) => l.address === address)

/** The host of a URL, or undefined. */
export function hostOf(url: string | undefined): string | undefined {
  try {
    return url ? new URL(url).hostname : undefined
  } catch {
    return undefined
  }
}

/** keepalived keeps 8 characters of a PASS authentication: 8 from an unambiguous alphabet. */
export function generateVrrpPassword(): string {
  const abc = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"
  let s = ""
  for (let i = 0; i < 8; i++) s += abc[randomInt(abc.length)]
  return s
}

export const DEFAULT_VRID = 51
export const FIRST_POOL_PRIORITY = 200
export const JOINING_POOL_PRIORITY = 100

/** What the network step keeps in the wizard's answers (the password is kept apart, never in answers). */
export type NetworkAnswer =
  | { mode: "none" }
  | {
      mode: "first" | "join"
      address: string
      prefix: number
      interface: string | null
      vrid: number
      priority: number
      joined_from: string | null
    }

type Input = Record<string, unknown>
const str = (v: unknown): string =>
  Array.isArray(v) ? str(v[0]) : typeof v === "string" ? v.trim() : typeof v === "number" ? String(v) : ""

/**
 * The first pool's HA values. `cidr` is the LAN's mask ("24") or network ("192.168.1.0/24"); the VIP must
 * be a host address inside it, not one of this pool's own addresses, and on a subnet one of this host's
 * interfaces carries (else keepalived has nowhere to put it). Returns the answer or per-field errors.
 */
export function validateFirstPool(
  input: Input,
  ctx: { local: LocalAddress[]; poolHost?: string },
): { ok: true; value: NetworkAnswer & { mode: "first" } } | { ok: false; errors: FieldErrors } {
  const errors: FieldErrors = {}
  const address = str(input.vip_address)
  const cidr = str(input.vip_cidr).replace(/^\//, "")
  const vridRaw = str(input.vip_vrid)
  const iface = str(input.vip_interface)
  const ip = address ? ipv4(address) : null
  if (!address) errors.vip_address = "required"
  else if (ip === null) errors.vip_address = "invalid_ipv4"
  let prefix = Number.NaN
  let network: number | null = null
  const m = /^(?:(\d{1,3}(?:\.\d{1,3}){3})\/)?(\d{1,2})$/.exec(cidr)
  if (!cidr) errors.vip_cidr = "required"
  else if (!m || Number(m[2]) < 8 || Number(m[2]) > 30 || (m[1] !== undefined && ipv4(m[1]) === null))
    errors.vip_cidr = "invalid_cidr"
  else {
    prefix = Number(m[2])
    if (m[1] !== undefined) {
      network = ipv4(m[1])!
      if (networkOf(network, prefix) !== network) errors.vip_cidr = "invalid_cidr"
    }
  }
  if (ip !== null && !errors.vip_cidr && !Number.isNaN(prefix)) {
    const net = network ?? networkOf(ip, prefix)
    const broadcast = (net | ~mask(prefix)) >>> 0
    if (networkOf(ip, prefix) !== net) errors.vip_address = "vip_outside_cidr"
    else if (ip === net || ip === broadcast) errors.vip_address = "vip_not_host"
    else if (ctx.local.some((l) => l.address === address) || ctx.poolHost === address)
      errors.vip_address = "vip_is_own_address"
    else if (!iface && !ctx.local.some((l) => sameSubnet(ip, ipv4(l.address)!, prefix)))
      errors.vip_address = "vip_not_on_lan"
  }
  if (iface && !/^[\w.@-]{1,15}$/.test(iface)) errors.vip_interface = "invalid_interface"
  const vrid = vridRaw === "" ? DEFAULT_VRID : Number(vridRaw)
  if (!Number.isInteger(vrid) || vrid < 1 || vrid > 255) errors.vip_vrid = "invalid_vrid"
  if (Object.keys(errors).length) return { ok: false, errors }
  return {
    ok: true,
    value: {
      mode: "first",
      address,
      prefix,
      interface: iface || interfaceFor(address, ctx.local),
      vrid,
      priority: FIRST_POOL_PRIORITY,
      joined_from: null,
    },
  }
}

/** The joining pool's form: the URL of a pool of the cluster and that pool's administrator. */
export function validateJoin(
  input: Input,
): { ok: true; value: { url: string; email: string; password: string } } | { ok: false; errors: FieldErrors } {
  const errors: FieldErrors = {}
  const raw = str(input.join_url)
  let url = ""
  if (!raw) errors.join_url = "required"
  else
    try {
      const u = new URL(raw)
      if (!/^https?:$/.test(u.protocol)) errors.join_url = "invalid_url"
      url = u.origin
    } catch {
      errors.join_url = "invalid_url"
    }
  const email = str(input.join_email)
  const password = typeof input.join_password === "string" ? input.join_password : ""
  if (!email) errors.join_email = "required"
  if (!password) errors.join_password = "required"
  return Object.keys(errors).length ? { ok: false, errors } : { ok: true, value: { url, email, password } }
}
