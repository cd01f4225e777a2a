// core/federation/_context — what the federation's parts (replication, bonding, probes) share: the
// facade in federation.ts is this context, so each part reads the advertised URL as it is now.
import type { Clock } from "../clock.ts"
import type { Config } from "../config/index.ts"
import type { Sql } from "../db/client.ts"
import type { HybridClock } from "./hlc.ts"
import type { Identity } from "./identity.ts"

export type FedConfig = Pick<
  Config,
  | "fedMode"
  | "fedGossipEnabled"
  | "fedKeyDir"
  | "fedRekey"
  | "fedAtomId"
  | "minTrustLevel"
  | "bondPeers"
  | "fedAllowLoopbackUrl"
  | "fedGossipMs"
  | "fedAntiEntropyMs"
  | "fedProbeMs"
  | "fedPeerTimeoutMs"
  | "fedPeerBackoffMaxMs"
  | "fedRejectsMaxAgeDays"
  | "fedRejectsMaxRows"
  | "poolName"
>

export interface FedContext {
  readonly sql: Sql
  readonly identity: Identity
  readonly config: Readonly<FedConfig>
  readonly clock: Clock
  readonly hlc: HybridClock
  /** The URL peers use to reach this pool; set once the listener's port is known. */
  readonly url: string
}
