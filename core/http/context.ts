// core/http/context — what routes get from the pool: core services, never raw SQL.
import type { Config } from "../config/index.ts"
import type { Database } from "../db/client.ts"
import type { Clock } from "../clock.ts"
import type { LicenseStore } from "../license/store.ts"

export interface PoolContext {
  config: Readonly<Config>
  db: Database
  clock: Clock
  startedAt: number
  /** Extra fields for /v1/status contributed by other domains (workers, queue). */
  statusExtra?: () => Record<string, unknown>
  /** The installed licence (core/license/store.ts); use licenseStoreFor(ctx), which falls back to one per context. */
  license?: LicenseStore
}
