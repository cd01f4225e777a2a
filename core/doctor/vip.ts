// core/doctor/vip — the VIP check of `cellule doctor` (admin guide §4.7): from each reachable pool's
// /v1/cluster/vip-self (settings and the VRRP state `cellule vip` reports), pure: says whether the VIP is
// configured alike everywhere, supervised on every pool, held by exactly one pool, and answering.
import type { Check } from "./index.ts"

export interface VipSelf {
  configured: boolean
  supervised?: boolean
  state?: string
  vip_address?: string
  virtual_router_id?: number
  priority?: number
  holds_vip?: boolean
  port?: number
}

/** `selfs`: one per reachable pool (null: vip-self could not be read); `vipAnswers`: the VIP's own probe. */
export function vipChecks(
  selfs: { pool: string; self: VipSelf | null }[],
  vipAnswers?: { url: string; ok: boolean; name?: string; error?: string },
): Check[] {
  const out: Check[] = []
  const configured = selfs.filter((s) => s.self?.configured)
  if (!configured.length) {
    out.push({
      check: "vip",
      status: "ok",
      subject: "cluster",
      detail: "no VIP configured (the wizard's HA network step was skipped)",
    })
    return out
  }
  for (const s of selfs)
    if (!s.self)
      out.push({ check: "vip", status: "warn", subject: s.pool, detail: "could not read /v1/cluster/vip-self" })
    else if (!s.self.configured)
      out.push({
        check: "vip",
        status: "warn",
        subject: s.pool,
        detail: "this pool has no VIP settings: it will never hold the VIP",
        fix: "re-run the wizard's HA network step in join mode on this pool, or leave it out of the VIP on purpose",
      })
  const ref = configured[0]!.self!
  for (const s of configured.slice(1))
    if (s.self!.vip_address !== ref.vip_address || s.self!.virtual_router_id !== ref.virtual_router_id)
      out.push({
        check: "vip",
        status: "problem",
        subject: s.pool,
        detail: `VIP ${s.self!.vip_address} / VRID ${s.self!.virtual_router_id} differs from ${configured[0]!.pool}'s ${ref.vip_address} / VRID ${ref.virtual_router_id}`,
        fix: "every pool needs the same VIP, VRID and password: join from the first pool (wizard, HA network step)",
      })
  let masters = 0
  for (const s of configured) {
    const v = s.self!
    if (!v.supervised)
      out.push({
        check: "vip",
        status: "problem",
        subject: s.pool,
        detail: "`cellule vip` does not report here: keepalived is not supervised on this pool",
        fix: "run `cellule vip --data-dir <the pool's data dir>` as root on this host (compose: the vip profile)",
      })
    else if (v.state === "FAULT" || v.state === "STOPPED")
      out.push({
        check: "vip",
        status: "problem",
        subject: s.pool,
        detail: `keepalived is ${v.state}: this pool cannot take the VIP`,
        fix: "FAULT: its health check on the local /v1/status fails or the interface is down; STOPPED: keepalived keeps exiting (see `cellule vip`'s log)",
      })
    else {
      if (v.state === "MASTER") masters++
      out.push({
        check: "vip",
        status: v.state === "MASTER" && v.holds_vip === false ? "warn" : "ok",
        subject: s.pool,
        detail: `${v.state} (priority ${v.priority ?? "?"})${v.state === "MASTER" && v.holds_vip === false ? ", but the address is not on this host" : ""}`,
      })
    }
  }
  const supervised = configured.filter((s) => s.self!.supervised).length
  if (supervised && masters === 0)
    out.push({
      check: "vip",
      status: "problem",
      subject: "cluster",
      detail: "no pool is MASTER: nobody holds the VIP",
      fix: "check the pools' health (FAULT above) and `ip -br -4 addr show | grep <VIP>` on each",
    })
  if (masters > 1)
    out.push({
      check: "vip",
      status: "problem",
      subject: "cluster",
      detail: `${masters} pools are MASTER at once (split brain): VRRP adverts do not pass between them`,
      fix: "let VRRP (multicast 224.0.0.18, IP protocol 112) through between the pools; same VRID and password everywhere",
    })
  if (vipAnswers)
    out.push(
      vipAnswers.ok
        ? {
            check: "vip",
            status: "ok",
            subject: vipAnswers.url,
            detail: `the VIP answers (held by ${vipAnswers.name ?? "?"})`,
          }
        : {
            check: "vip",
            status: "problem",
            subject: vipAnswers.url,
            detail: `the VIP ${ref.vip_address} does not answer: ${vipAnswers.error}`,
            fix: "check `cellule vip` (keepalived) runs on every pool and that VRRP (224.0.0.18) passes between them; `ip -br -4 addr show | grep <VIP>` on the pools",
          },
    )
  return out
}
