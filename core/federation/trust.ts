// core/federation/trust — when a bond may be promoted without an administrator (federation.auto_promote):
// after 24 h of stable probes and 24 h since it was first seen.
import type { Sql } from "../db/client.ts"
import type { Peer } from "./peers.ts"

export const AUTO_PROMOTE_AFTER_MS = 24 * 3600_000

/** The cluster-wide switch (off unless set to true). */
export async function autoPromoteEnabled(sql: Sql): Promise<boolean> {
  const [row] = await sql<
    { value: unknown }[]
  >`select value from cluster_settings where key = 'federation.auto_promote'`
  return row?.value === true
}

/**
 * Whether `p`, stable since `stableSince`, has earned the trust level `minTrust` at `now`. Only a bond
 * made with an attachment token or a pinned key qualifies: anything else was never vouched for.
 */
export function dueForAutoPromotion(p: Peer, stableSince: Date, now: number, minTrust: number): boolean {
  return (
    (p.bonded_via === "token" || p.bonded_via === "pinned") &&
    p.trust_level < minTrust &&
    now - stableSince.getTime() >= AUTO_PROMOTE_AFTER_MS &&
    now - p.first_seen.getTime() >= AUTO_PROMOTE_AFTER_MS
  )
}
