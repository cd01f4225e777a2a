// core/auth/key-usage-sync — makes API-key limits cluster-wide: every interval, ask each trusted peer
// (signed request) what it has counted for each key in the last minute and this month, and hand that
// to ApiKeys, which adds it to this pool's own counts. A key limited to 60 requests a minute gets 60
// across the cluster, give or take one interval of requests in flight between two pools.
import type { Federation } from "../federation/index.ts"
import { Loop } from "../federation/loop.ts"
import { signedFetch } from "../federation/transport.ts"
import { logger } from "../log.ts"
import type { ApiKeys, KeyUsageReport } from "./api-keys.ts"

const log = logger("auth.key-usage")

/** Served to trusted peers only (signature and trust checked before the handler runs). */
export const KEY_USAGE_PATH = "/v1/federation/key-usage"

export class KeyUsageSync {
  readonly loop: Loop
  private unreachable = new Set<string>()

  constructor(private readonly fed: Federation, private readonly keys: ApiKeys, private readonly minTrust: number, intervalMs: number) {
    this.loop = new Loop("key usage sync", intervalMs, () => this.tick(), log)
  }

  start() {
    if (this.fed.config.fedMode !== "off") this.loop.start({ immediate: true })
  }

  stop() {
    return this.loop.stop()
  }

  private async tick() {
    const peers = await this.fed.sql<{ atom_id: string; url: string; pool_name: string | null }[]>`
      select atom_id, url, pool_name from federation_peers where trust_level >= ${this.minTrust} and revoked_at is null`
    this.keys.keepPeers(peers.map((p) => p.atom_id))
    await Promise.all(
      peers.map(async (p) => {
        try {
          const r = await signedFetch<KeyUsageReport>(this.fed.identity, p.url, KEY_USAGE_PATH, { now: this.fed.clock.now(), timeoutMs: 2000 })
          this.keys.peerReport(p.atom_id, r)
          if (this.unreachable.delete(p.atom_id)) log.info(`key usage of ${p.pool_name ?? p.atom_id} counted again`)
        } catch (e) {
          // Its last report stays: minute windows age out by themselves, month totals still count.
          if (!this.unreachable.has(p.atom_id)) log.warn(`key usage of ${p.pool_name ?? p.atom_id} unknown, using its last report: ${(e as Error).message}`)
          this.unreachable.add(p.atom_id)
        }
      }),
    )
  }
}
