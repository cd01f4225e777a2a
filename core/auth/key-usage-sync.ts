// core/auth/key-usage-sync — makes API-key limits cluster-wide: every interval, ask each trusted peer
// (signed request) what it has counted for each key in the last minute and this month, and hand that
// to ApiKeys, which adds it to this pool's own counts. A key limited to 60 requests a minute gets 60
// across the cluster, give or take one interval of requests in flight between two pools.
import type { Federation } from "../federation/index.ts"
import { Loop } from "../federation/loop.ts"
import { trustedPeers } from "../federation/peers.ts"
import { signedFetch } from "../federation/transport.ts"
import { logger } from "../log.ts"
import type { ApiKeys, KeyUsageReport } from "./api-keys.ts"

const log = logger("auth.key-usage")

/** Served to trusted peers only (signature and trust checked before the handler runs). */
export const KEY_USAGE_PATH = "/v1/federation/key-usage"
/** A pool's own daily usage per key (the last DAILY_DAYS days), for the cluster-wide chart; trusted peers only. */
export const DAILY_USAGE_PATH = "/v1/federation/key-usage-daily"
export const DAILY_DAYS = 31

export interface DailyUsage {
  day: string
  key_id: string | null
  name: string | null
  requests: number
  prompt_tokens: number
  completion_tokens: number
  avg_latency_ms: number
}

/** One row per day and key across pools: counts add up, latency is averaged over requests. */
export function mergeDaily(lists: DailyUsage[][]): DailyUsage[] {
  const by = new Map<string, DailyUsage>()
  for (const list of lists)
    for (const r of list) {
      const day = new Date(r.day).toISOString().slice(0, 10)
      const k = `${day}|${r.key_id ?? ""}`
      const seen = by.get(k)
      if (!seen) {
        by.set(k, {
          ...r,
          day,
          requests: Number(r.requests),
          prompt_tokens: Number(r.prompt_tokens),
          completion_tokens: Number(r.completion_tokens),
          avg_latency_ms: Number(r.avg_latency_ms),
        })
        continue
      }
      const n = seen.requests + Number(r.requests)
      seen.avg_latency_ms = n
        ? Math.round((seen.avg_latency_ms * seen.requests + Number(r.avg_latency_ms) * Number(r.requests)) / n)
        : 0
      seen.requests = n
      seen.prompt_tokens += Number(r.prompt_tokens)
      seen.completion_tokens += Number(r.completion_tokens)
      seen.name ??= r.name
    }
  return [...by.values()].sort((a, b) => a.day.localeCompare(b.day) || (a.name ?? "").localeCompare(b.name ?? ""))
}

export class KeyUsageSync {
  readonly loop: Loop
  private unreachable = new Set<string>()

  constructor(
    private readonly fed: Federation,
    private readonly keys: ApiKeys,
    private readonly minTrust: number,
    intervalMs: number,
  ) {
    this.loop = new Loop("key usage sync", intervalMs, () => this.tick(), log)
  }

  start() {
    if (this.fed.config.fedMode !== "off") this.loop.start({ immediate: true })
  }

  stop() {
    return this.loop.stop()
  }

  /**
   * Daily usage per key over the whole cluster: this pool's rows and each trusted peer's (asked now,
   * 2 s each). `unreachable` names the pools whose use is missing from the figures.
   */
  async clusterDaily(days: number, keyId?: string): Promise<{ rows: DailyUsage[]; unreachable: string[] }> {
    const since = new Date(this.fed.clock.now() - days * 86_400_000).toISOString().slice(0, 10)
    const mine = (await this.keys.usage(days, keyId)) as unknown as DailyUsage[]
    const unreachable: string[] = []
    const theirs =
      this.fed.config.fedMode === "off"
        ? []
        : await Promise.all(
            (await this.trustedPeers()).map(async (p) => {
              try {
                return (
                  await signedFetch<{ rows: DailyUsage[] }>(this.fed.identity, p.url, DAILY_USAGE_PATH, {
                    now: this.fed.clock.now(),
                    timeoutMs: 2000,
                  })
                ).rows
              } catch {
                unreachable.push(p.pool_name ?? p.atom_id)
                return []
              }
            }),
          )
    const rows = mergeDaily([
      mine,
      ...theirs.map((l) =>
        l.filter((r) => new Date(r.day).toISOString().slice(0, 10) >= since && (!keyId || r.key_id === keyId)),
      ),
    ])
    // A key a peer knows and this pool does not yet: its name comes from here when this pool knows it.
    const names = new Map((await this.keys.list()).map((k) => [k.id, k.name]))
    for (const r of rows) if (r.key_id && !r.name) r.name = names.get(r.key_id) ?? null
    return { rows, unreachable }
  }

  private trustedPeers() {
    return trustedPeers(this.fed.sql, this.minTrust)
  }

  private async tick() {
    const peers = await this.trustedPeers()
    this.keys.keepPeers(peers.map((p) => p.atom_id))
    await Promise.all(
      peers.map(async (p) => {
        try {
          const r = await signedFetch<KeyUsageReport>(this.fed.identity, p.url, KEY_USAGE_PATH, {
            now: this.fed.clock.now(),
            timeoutMs: 2000,
          })
          this.keys.peerReport(p.atom_id, r)
          if (this.unreachable.delete(p.atom_id)) log.info(`key usage of ${p.pool_name ?? p.atom_id} counted again`)
        } catch (e) {
          // Its last report stays: minute windows age out by themselves, month totals still count.
          if (!this.unreachable.has(p.atom_id))
            log.warn(`key usage of ${p.pool_name ?? p.atom_id} unknown, using its last report: ${(e as Error).message}`)
          this.unreachable.add(p.atom_id)
        }
      }),
    )
  }
}
