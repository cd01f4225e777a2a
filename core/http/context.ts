// core/http/context — what routes get from the pool: core services, never raw SQL.
import type { Config } from "../config/index.ts"
import type { Database } from "../db/client.ts"
import type { Clock } from "../clock.ts"

export interface PoolContext {
  config: Readonly<Config>
  db: Database
  clock: Clock
  startedAt: number
  /** Extra fields for /v1/status contributed by other domains (workers, queue). */
  statusExtra?: () => Record<string, unknown>
}
