// core/workers/lifecycle — the pool's side of the worker lifecycle in one place for the composition
// root: per-worker tokens and the audit log for the hub, upgrade offers, peer URLs for failover.
import type { Clock } from "../clock.ts"
import type { Config } from "../config/index.ts"
import type { Database } from "../db/client.ts"
import { logger } from "../log.ts"
import type { HubOptions } from "./hub.ts"
import { auditWorker, touchWorkerToken, workerTokenId } from "./provisioning.ts"
import { upgradePolicy } from "./upgrade.ts"

const log = logger("workers")

export function lifecycleHubOptions(db: Database, config: Readonly<Config>, clock: Clock): Pick<HubOptions, "resolveWorkerToken" | "onWorkerEvents" | "upgradeFor" | "peerPoolUrls"> {
  return {
    resolveWorkerToken: async (presented) => {
      const id = await workerTokenId(db.sql, presented)
      if (id !== null) void touchWorkerToken(db.sql, clock, id).catch(() => {})
      return id
    },
    onWorkerEvents: (worker, tokenId, events) => {
      void (async () => {
        for (const e of events) {
          if (e.event !== "connected") log.info(`worker ${worker}: ${e.event} ${JSON.stringify(e.detail ?? {})}`)
          await auditWorker(db.sql, clock, worker, e.event, { ...(e.detail ?? {}), ...(tokenId ? { token_id: tokenId } : {}) }, e.at)
        }
      })().catch((err) => log.warn(`could not record worker events: ${(err as Error).message}`))
    },
    upgradeFor: upgradePolicy({ config, clock }),
    peerPoolUrls: () => config.peerPoolUrls,
  }
}
