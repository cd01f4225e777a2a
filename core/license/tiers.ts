// core/license/tiers — the commercial tiers and what `cellule license issue` puts in a token by
// default. Used only when issuing: the pool trusts the token's own features and limits, never this table.

/** Feature names routes gate on with requireFeature(). A token may carry others; they are ignored. */
export const FEATURES = ["rag_documents", "balancer", "smart_routing", "multi_site", "ha_vip"] as const
export type Feature = (typeof FEATURES)[number]

/** Limit names routes gate on with requireLimit(). An undeclared limit is unlimited. */
export const LIMITS = ["max_pools", "max_users"] as const
export type Limit = (typeof LIMITS)[number]

export interface TierDefaults {
  readonly description: string
  readonly durationDays: number
  readonly graceDays: number
  readonly features: readonly Feature[]
  readonly limits: Readonly<Partial<Record<Limit, number>>>
}

const SMB: readonly Feature[] = ["rag_documents", "balancer", "smart_routing"]

// Keep docs/licensing.md's tier table in step with this one.
export const TIER_DEFAULTS = {
  trial: {
    description: "evaluation on one pool",
    durationDays: 30,
    graceDays: 0,
    features: SMB,
    limits: { max_pools: 1, max_users: 10 },
  },
  cabinet: {
    description: "SMB firm, single-site 3-pool LAN",
    durationDays: 365,
    graceDays: 30,
    features: SMB,
    limits: { max_pools: 3, max_users: 50 },
  },
  corporate: {
    description: "multi-site WAN federation",
    durationDays: 365,
    graceDays: 30,
    features: [...SMB, "multi_site", "ha_vip"],
    limits: { max_pools: 20, max_users: 1000 },
  },
} as const satisfies Record<string, TierDefaults>

export type Tier = keyof typeof TIER_DEFAULTS

export function tierDefaults(tier: string): TierDefaults | undefined {
  return Object.hasOwn(TIER_DEFAULTS, tier) ? TIER_DEFAULTS[tier as Tier] : undefined
}
