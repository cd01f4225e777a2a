// core/vip/agent — `cellule vip` next to a pool (admin guide §4.7.1): reads the VIP settings the wizard
// stored from the local pool's /v1/cluster/vip-self (with the agent token from the pool's data dir),
// supervises keepalived with them, and reports each VRRP transition, then every few seconds, back to
// /v1/cluster/vip-self, so the pool (and `cellule doctor`) can say which pool holds the VIP.
import { existsSync, readFileSync } from "node:fs"
import { CelluleError } from "../errors.ts"
import { logger } from "../log.ts"
import { superviseKeepalived, type VipOptions, type VipSupervisor } from "./keepalived.ts"
import { interfaceFor, localAddresses } from "./net.ts"
import { agentTokenPath, type VrrpState } from "./store.ts"

const log = logger("vip")

export interface AgentOptions {
  poolUrl: string
  /** The pool's data directory (its vip/agent.token). */
  dataDir: string
  /** Settings given as flags win over the pool's (all of them: the flags-only mode of docs/vip.md). */
  flags: Partial<VipOptions>
  name: string
  keepalived?: string
  /** How often the state is re-sent (ms). */
  reportMs?: number
  /** How long to wait for the pool's settings before giving up (ms); the wizard may not be done yet. */
  waitMs?: number
}

export function readAgentToken(dataDir: string): string | null {
  const p = agentTokenPath(dataDir)
  return existsSync(p) ? readFileSync(p, "utf8").trim() || null : null
}

interface SelfView {
  configured: boolean
  vip_address?: string
  prefix?: number
  interface?: string | null
  virtual_router_id?: number
  priority?: number
  auth_pass?: string
}

/** The settings keepalived runs with: the flags when complete, else the pool's. */
async function settings(o: AgentOptions, token: string | null): Promise<VipOptions> {
  const f = o.flags
  if (f.address && f.password && f.interface)
    return {
      address: f.address,
      interface: f.interface,
      password: f.password,
      vrid: f.vrid ?? 51,
      priority: f.priority ?? 100,
      poolUrl: o.poolUrl,
      name: o.name,
    }
  if (!token)
    throw new CelluleError(
      "vip_no_token",
      `no ${agentTokenPath(o.dataDir)}: give the pool's --data-dir (or every setting as flags: --address --interface --password)`,
    )
  const deadline = Date.now() + (o.waitMs ?? 10 * 60_000)
  let said = false
  for (;;) {
    const v = await fetch(`${o.poolUrl}/v1/cluster/vip-self`, {
      headers: { authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(5000),
    })
      .then(async (r) => (r.ok ? ((await r.json()) as SelfView) : null))
      .catch(() => null)
    if (v?.configured && v.vip_address && v.auth_pass) {
      const iface = f.interface ?? v.interface ?? interfaceFor(v.vip_address, localAddresses())
      if (!iface)
        throw new CelluleError(
          "vip_invalid",
          `no interface of this host is on ${v.vip_address}'s subnet: give --interface`,
        )
      return {
        address: f.address ?? `${v.vip_address}/${v.prefix}`,
        interface: iface,
        password: f.password ?? v.auth_pass,
        vrid: f.vrid ?? v.virtual_router_id ?? 51,
        priority: f.priority ?? v.priority ?? 100,
        poolUrl: o.poolUrl,
        name: o.name,
      }
    }
    if (Date.now() > deadline)
      throw new CelluleError("vip_not_configured", `${o.poolUrl} has no VIP settings (the wizard's HA network step)`)
    if (!said) log.info(`waiting for ${o.poolUrl} to have VIP settings (wizard, HA network step)…`)
    said = true
    await Bun.sleep(2000)
  }
}

export interface VipAgent {
  supervisor: VipSupervisor
  options: VipOptions
  stop(): Promise<void>
}

export async function startVipAgent(o: AgentOptions): Promise<VipAgent> {
  const token = readAgentToken(o.dataDir)
  const options = await settings(o, token)
  const report = (state: VrrpState) => {
    if (!token) return Promise.resolve()
    return fetch(`${o.poolUrl}/v1/cluster/vip-self`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ state, priority: options.priority }),
      signal: AbortSignal.timeout(3000),
    })
      .then((r) => {
        if (!r.ok) log.debug(`state report refused: ${r.status}`)
      })
      .catch(() => {}) // the pool may be down: that is what the VIP is for; the next report retries
  }
  const supervisor = superviseKeepalived(options, `${o.dataDir}/vip`, o.keepalived, (s) => {
    log.info(`VRRP state ${s}`)
    void report(s)
  })
  const timer = setInterval(() => {
    const s = supervisor.state()
    if (s) void report(s)
  }, o.reportMs ?? 5000)
  return {
    supervisor,
    options,
    async stop() {
      clearInterval(timer)
      await supervisor.stop()
      await report("STOPPED")
    },
  }
}
