// core/setup/network — the wizard's HA network step (admin guide §4.7.2): no VIP; the first pool of the
// cluster (VIP, LAN mask, a generated VRRP password); or a pool joining a cluster, which reads the VIP
// settings from one of its pools (/v1/cluster/vip-info, signed in with that pool's administrator).
// Returns what the answers keep and, apart, the VRRP password (never stored in the answers).
import { CelluleError } from "../errors.ts"
import {
  generateVrrpPassword,
  interfaceFor,
  JOINING_POOL_PRIORITY,
  localAddresses,
  type FieldErrors,
  type LocalAddress,
  type NetworkAnswer,
  validateFirstPool,
  validateJoin,
} from "../vip/net.ts"
import { fetchRemoteVipInfo } from "../vip/store.ts"

export interface NetworkDeps {
  /** This host's IPv4 addresses (default: its interfaces). */
  local?: LocalAddress[]
  /** The host of this pool's advertised URL (the VIP must differ). */
  poolHost?: string
  fetchVipInfo?: typeof fetchRemoteVipInfo
}

export type NetworkResult =
  | { ok: true; answer: NetworkAnswer; authPass: string | null }
  | { ok: false; errors: FieldErrors }

const str = (v: unknown): string => (typeof v === "string" ? v.trim() : Array.isArray(v) ? str(v[0]) : "")

export async function resolveNetworkStep(
  input: Record<string, unknown>,
  deps: NetworkDeps = {},
): Promise<NetworkResult> {
  const mode = str(input.vip_mode) || "none"
  const local = deps.local ?? localAddresses()
  if (mode === "none") return { ok: true, answer: { mode: "none" }, authPass: null }
  if (mode === "first") {
    const r = validateFirstPool(input, { local, poolHost: deps.poolHost })
    if (!r.ok) return r
    // Headless answers may carry the password (every pool of a scripted cluster the same); else generated.
    const given = str(input.vip_auth_pass)
    if (given && (!/^[\x21-\x7e]{4,8}$/.test(given) || given.includes('"')))
      return { ok: false, errors: { vip_auth_pass: "invalid_vrrp_password" } }
    return { ok: true, answer: r.value, authPass: given || generateVrrpPassword() }
  }
  if (mode === "join") {
    const j = validateJoin(input)
    if (!j.ok) return j
    try {
      const info = await (deps.fetchVipInfo ?? fetchRemoteVipInfo)(j.value.url, j.value.email, j.value.password)
      return {
        ok: true,
        answer: {
          mode: "join",
          address: info.vip_address!,
          prefix: info.prefix!,
          interface: interfaceFor(info.vip_address!, local) ?? info.interface_hint ?? null,
          vrid: info.virtual_router_id!,
          priority: JOINING_POOL_PRIORITY,
          joined_from: j.value.url,
        },
        authPass: info.auth_pass!,
      }
    } catch (e) {
      if (e instanceof CelluleError && e.code.startsWith("join_")) return { ok: false, errors: { join_url: e.code } }
      throw e
    }
  }
  return { ok: false, errors: { vip_mode: "invalid_choice" } }
}
