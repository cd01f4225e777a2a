// core/workers/lifecycle — the pool's side of the worker lifecycle in one place for the composition
// root: per-worker tokens and the audit log for the hub, upgrade offers, peer URLs for failover.
import type { Clock } from "../clock.ts"
import type { Config } from "../config/index.ts"
import type { Database } from "../db/client.ts"
import { logger } from "../log.ts"
import type { HubOptions } from "./hub.ts"
import { auditWorker, bindWorkerId, touchWorkerToken, workerToken, workerTokenRevoked } from "./provisioning.ts"
import { upgradePolicy } from "./upgrade.ts"
import { claimWorkerId } from "./ownership.ts"
import { releaseKeyFor, type ReleaseKey } from "./release-key.ts"

const log = logger("workers")

export function lifecycleHubOptions(
  db: Database,
  config: Readonly<Config>,
  clock: Clock,
  releaseKey?: ReleaseKey,
  /** The trusted bonded peers' URLs (core/workers/cluster.ts); CELLULE_PEER_POOL_URLS, when set, overrides them. */
  clusterPeerUrls?: () => string[],
  /** The trusted bonded peers' release public keys by URL (kind "release_key"). */
  clusterReleaseKeys?: () => Record<string, string>,
): Pick<
  HubOptions,
  | "resolveWorkerToken"
  | "isRevokedWorkerToken"
  | "onWorkerEvents"
  | "upgradeFor"
  | "peerPoolUrls"
  | "peerReleaseKeys"
  | "activityPolicy"
  | "claimWorkerId"
> {
  // CELLULE_WORKER_WORKING_HOURS was parsed and validated by loadConfig; workers get the text.
  const policy =
    config.workerWorkingHours || config.workerThrottledPct !== undefined || config.workerBusyPct !== undefined
      ? {
          working_hours: config.workerWorkingHours?.spec,
          throttled_pct: config.workerThrottledPct,
          busy_pct: config.workerBusyPct,
        }
      : undefined
  // The enrolled name (from provisioning) is what the dashboard lists; the hello name is the host name.
  const names = new Map<number, string>()
  return {
    resolveWorkerToken: async (presented) => {
      const t = await workerToken(db.sql, presented)
      if (!t) return null
      names.set(t.id, t.name)
      void touchWorkerToken(db.sql, clock, t.id).catch(() => {})
      return t.id
    },
    isRevokedWorkerToken: (presented) => workerTokenRevoked(db.sql, presented),
    onWorkerEvents: (host, tokenId, events) => {
      const worker = (tokenId !== undefined && names.get(tokenId)) || host
      void (async () => {
        for (const e of events) {
          const workerId = e.detail?.worker_id
          if (e.event === "connected" && tokenId !== undefined && typeof workerId === "string")
            await bindWorkerId(db.sql, tokenId, workerId)
          if (e.event !== "connected") log.info(`worker ${worker}: ${e.event} ${JSON.stringify(e.detail ?? {})}`)
          await auditWorker(
            db.sql,
            clock,
            worker,
            e.event,
            { ...(e.detail ?? {}), ...(tokenId ? { token_id: tokenId } : {}) },
            e.at,
          )
        }
      })().catch((err) => log.warn(`could not record worker events: ${(err as Error).message}`))
    },
    upgradeFor: upgradePolicy({ config, clock, releaseKey: releaseKey ?? releaseKeyFor(config.dataDir) }),
    peerPoolUrls: () => (config.peerPoolUrls.length ? config.peerPoolUrls : (clusterPeerUrls?.() ?? [])),
    peerReleaseKeys: () => clusterReleaseKeys?.() ?? {},
    activityPolicy: () => policy,
    claimWorkerId: async (workerId, tokenId) => (await claimWorkerId(db.sql, clock, workerId, tokenId ?? null)).owned,
  }
}
