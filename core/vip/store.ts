// core/vip/store — this pool's VIP (admin guide §4.7): the settings the wizard stored (cluster_vip), the
// state `cellule vip` reports (MASTER / BACKUP / FAULT / STOPPED, kept in memory: it is the sidecar's
// live view, re-sent every few seconds), the local agent token that lets the sidecar on this host read
// the VRRP password, and the joining pool's read of another pool's /v1/cluster/vip-info.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { randomBytes } from "node:crypto"
import type { Sql, Tx } from "../db/client.ts"
import type { Clock } from "../clock.ts"
import { BadRequest, CelluleError } from "../errors.ts"
import { tokenMatches, hashToken } from "../crypto/token.ts"
import { logger } from "../log.ts"
import { cidrOf, holdsAddress, JOINING_POOL_PRIORITY } from "./net.ts"

const log = logger("vip")

export interface VipConfig {
  address: string
  prefix: number
  interface: string | null
  vrid: number
  authPass: string
  priority: number
  joinedFrom: string | null
  updatedAt: Date
}

export const VRRP_STATES = ["MASTER", "BACKUP", "FAULT", "STOPPED"] as const
export type VrrpState = (typeof VRRP_STATES)[number]

/** A report older than this means `cellule vip` is not running (it reports every few seconds). */
export const REPORT_STALE_MS = 15_000

export async function readVipConfig(sql: Sql | Tx): Promise<VipConfig | null> {
  const [r] = await sql`select address, prefix, interface, vrid, auth_pass, priority, joined_from, updated_at
                        from cluster_vip where id = 1`
  if (!r) return null
  return {
    address: r.address,
    prefix: Number(r.prefix),
    interface: r.interface,
    vrid: Number(r.vrid),
    authPass: r.auth_pass,
    priority: Number(r.priority),
    joinedFrom: r.joined_from,
    updatedAt: r.updated_at,
  }
}

export async function writeVipConfig(tx: Tx, c: Omit<VipConfig, "updatedAt">): Promise<void> {
  await tx`insert into cluster_vip (id, address, prefix, interface, vrid, auth_pass, priority, joined_from)
           values (1, ${c.address}, ${c.prefix}, ${c.interface}, ${c.vrid}, ${c.authPass}, ${c.priority}, ${c.joinedFrom})
           on conflict (id) do update set address = excluded.address, prefix = excluded.prefix,
             interface = excluded.interface, vrid = excluded.vrid, auth_pass = excluded.auth_pass,
             priority = excluded.priority, joined_from = excluded.joined_from, updated_at = now()`
}

/** The file `cellule vip` on this host reads to prove it may read the VRRP password (mode 0600). */
export const agentTokenPath = (dataDir: string) => join(dataDir, "vip", "agent.token")

/** Reads the agent token, creating it on first use. */
export function ensureAgentToken(dataDir: string): string {
  const path = agentTokenPath(dataDir)
  if (existsSync(path)) {
    const t = readFileSync(path, "utf8").trim()
    if (t.length >= 32) return t
  }
  mkdirSync(join(dataDir, "vip"), { recursive: true, mode: 0o700 })
  const token = randomBytes(32).toString("base64url")
  writeFileSync(path, `${token}\n`, { mode: 0o600 })
  return token
}

interface Report {
  state: VrrpState
  /** When the state last changed (a transition). */
  since: number
  /** When the sidecar last reported. */
  at: number
  priority: number | null
  previous: VrrpState | null
}

/** The VIP of this pool: settings from the database, live state from `cellule vip`. */
export class PoolVip {
  private report: Report | null = null
  private readonly tokenHash: Buffer

  constructor(
    private readonly sql: Sql,
    private readonly clock: Clock,
    private readonly o: { agentToken: string; poolPort: number },
  ) {
    this.tokenHash = hashToken(o.agentToken)
  }

  /** Whether `bearer` is this host's agent token (constant-time). */
  isAgent(bearer: string | null | undefined): boolean {
    return !!bearer && tokenMatches(bearer, this.tokenHash)
  }

  config(): Promise<VipConfig | null> {
    return readVipConfig(this.sql)
  }

  /** A state report from `cellule vip`; logs transitions. */
  record(input: { state?: unknown; priority?: unknown }): void {
    const state = String(input.state ?? "").toUpperCase() as VrrpState
    if (!(VRRP_STATES as readonly string[]).includes(state))
      throw new BadRequest(`state must be one of ${VRRP_STATES.join(", ")}`, "vip_state_invalid")
    const now = this.clock.now()
    const prev = this.report
    const priority = Number.isInteger(input.priority) ? (input.priority as number) : null
    if (!prev || prev.state !== state) {
      log.info(`VIP state ${prev?.state ?? "unknown"} -> ${state}`)
      this.report = { state, since: now, at: now, priority, previous: prev?.state ?? null }
    } else this.report = { ...prev, at: now, priority }
  }

  /** GET /v1/cluster/vip-info: what a joining pool needs to join the VIP group (the password: see the route). */
  async info(withSecret: boolean) {
    const c = await this.config()
    if (!c) return { configured: false as const }
    return {
      configured: true as const,
      vip_address: c.address,
      prefix: c.prefix,
      cidr: cidrOf(c.address, c.prefix),
      interface_hint: c.interface,
      virtual_router_id: c.vrid,
      port: this.o.poolPort,
      joining_priority: JOINING_POOL_PRIORITY,
      ...(withSecret ? { auth_pass: c.authPass } : {}),
    }
  }

  /** GET /v1/cluster/vip-self: this pool's role in the VIP (the password for the local agent only). */
  async self(withSecret: boolean) {
    const c = await this.config()
    const now = this.clock.now()
    const r = this.report
    const fresh = !!r && now - r.at <= REPORT_STALE_MS
    const base = {
      configured: !!c,
      supervised: fresh,
      state: fresh ? r!.state : r ? "UNKNOWN" : "UNKNOWN",
      previous_state: r?.previous ?? null,
      last_transition: r ? new Date(r.since).toISOString() : null,
      last_report: r ? new Date(r.at).toISOString() : null,
      reported_priority: r?.priority ?? null,
    }
    if (!c) return base
    return {
      ...base,
      vip_address: c.address,
      prefix: c.prefix,
      cidr: cidrOf(c.address, c.prefix),
      interface: c.interface,
      virtual_router_id: c.vrid,
      priority: c.priority,
      joined_from: c.joinedFrom,
      holds_vip: holdsAddress(c.address),
      port: this.o.poolPort,
      ...(withSecret ? { auth_pass: c.authPass } : {}),
    }
  }
}

/** What a joining pool reads from the pool it joins. */
export interface RemoteVipInfo {
  configured: boolean
  vip_address?: string
  prefix?: number
  interface_hint?: string | null
  virtual_router_id?: number
  auth_pass?: string
}

/**
 * The joining pool's read (wizard, "join an existing cluster"): signs in on `url` with that pool's
 * administrator (POST /login), then reads /v1/cluster/vip-info with the session. Never follows redirects
 * elsewhere than the pool itself. Throws CelluleError with a code the wizard shows next to the field.
 */
export async function fetchRemoteVipInfo(
  url: string,
  email: string,
  password: string,
  fetcher: typeof fetch = fetch,
): Promise<RemoteVipInfo> {
  const fail = (code: string, msg: string) => new CelluleError(code, msg, 400)
  let login: Response
  try {
    login = await fetcher(`${url}/login`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ email, password, next: "/" }).toString(),
      redirect: "manual",
      signal: AbortSignal.timeout(10_000),
    })
  } catch (e) {
    throw fail("join_unreachable", `${url} did not answer: ${(e as Error).message}`)
  }
  const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0]
  if (!cookie?.includes("=")) throw fail("join_login_failed", `${url} refused the administrator's sign-in`)
  const res = await fetcher(`${url}/v1/cluster/vip-info`, {
    headers: { cookie },
    redirect: "manual",
    signal: AbortSignal.timeout(10_000),
  }).catch((e) => {
    throw fail("join_unreachable", `${url} did not answer: ${(e as Error).message}`)
  })
  if (res.status === 404) throw fail("join_no_vip", `${url} serves no /v1/cluster/vip-info`)
  if (!res.ok) throw fail("join_login_failed", `${url}/v1/cluster/vip-info answered ${res.status}`)
  const info = (await res.json()) as RemoteVipInfo
  if (!info.configured || !info.vip_address || !info.auth_pass || !info.prefix || !info.virtual_router_id)
    throw fail("join_no_vip", `${url} has no VIP configured`)
  return info
}
