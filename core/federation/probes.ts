// core/federation/probes — the latency probe: pings every bonded peer, keeps a sliding RTT window per
// peer, classifies the link (LAN/metro/WAN), marks stability and applies auto-promotion (trust.ts).
import { logger } from "../log.ts"
import type { FedContext } from "./_context.ts"
import { Loop } from "./loop.ts"
import * as peers from "./peers.ts"
import { classify, RttWindow, type Link } from "./topology.ts"
import { redirectRefused } from "./transport.ts"
import { autoPromoteEnabled, dueForAutoPromotion } from "./trust.ts"

const log = logger("federation")

export class Probes {
  readonly loop: Loop
  private rtt = new Map<string, RttWindow>()

  constructor(private ctx: FedContext) {
    this.loop = new Loop("latency probe", ctx.config.fedProbeMs, () => this.tick(), log)
  }

  private async tick() {
    const { sql, clock, config } = this.ctx
    const autoPromote = await autoPromoteEnabled(sql)
    await Promise.all(
      (await peers.listPeers(sql))
        .filter((p) => !p.revoked_at)
        .map(async (p) => {
          const now = clock.now()
          try {
            const t0 = performance.now()
            const res = await fetch(`${p.url}/v1/federation/ping`, {
              redirect: "manual",
              signal: AbortSignal.timeout(5000),
            })
            // Never followed: a redirect could point the probe at a loopback or internal service.
            if (res.status >= 300 && res.status < 400) throw redirectRefused(p.url, res)
            if (!res.ok) throw new Error(`ping answered ${res.status}`)
            const body = (await res.json()) as { atom_id?: string }
            const ms = performance.now() - t0
            if (body.atom_id !== p.atom_id) throw new Error(`answered as ${body.atom_id}`)
            let w = this.rtt.get(p.atom_id)
            if (!w) {
              w = new RttWindow()
              this.rtt.set(p.atom_id, w)
            }
            const rtt = Math.round(w.add(ms) * 100) / 100
            const link: Link = classify(rtt)
            if (p.link !== link) log.info(`link to ${p.pool_name ?? p.atom_id}: ${link} (${rtt} ms)`)
            const stableSince = p.stable_since ?? new Date(now)
            await sql`update federation_peers set latency_ms = ${rtt}, link = ${link}, last_seen = ${new Date(now)}, stable_since = ${stableSince} where atom_id = ${p.atom_id}`
            if (autoPromote && dueForAutoPromotion(p, stableSince, now, config.minTrustLevel)) {
              await peers.promotePeer(sql, p.atom_id, config.minTrustLevel)
              log.info(
                `auto-promoted ${p.pool_name ?? p.atom_id} to trust ${config.minTrustLevel} after 24 h of stability`,
              )
            }
          } catch (e) {
            if (p.stable_since) log.warn(`peer ${p.pool_name ?? p.atom_id} unreachable: ${(e as Error).message}`)
            await sql`update federation_peers set stable_since = null where atom_id = ${p.atom_id}`
          }
        }),
    )
  }
}
