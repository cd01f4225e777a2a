// core/audit/cluster-peers — the cluster audit view over the federation: this pool's rows and chain,
// and each trusted peer's, asked through a signed call (AUDIT_PEER_PATH, trusted peers only) with a
// timeout, so a hung peer (stopped, not refusing) is named instead of stalling the page.
import { trustedPeers } from "../federation/peers.ts"
import type { Federation } from "../federation/index.ts"
import { signedFetch } from "../federation/transport.ts"
import { type ClusterAudit, clusterAudit } from "./cluster.ts"
import type { AuditFilter } from "./query.ts"
import type { AuditService } from "./service.ts"

/** Where a trusted peer asks this pool for its audit rows and chain status (POST, signed). */
export const AUDIT_PEER_PATH = "/v1/federation/peer-audit"

/** What a peer may ask for: the filters of the page, at most 200 rows. */
export interface PeerAuditQuery {
  actor?: string
  action?: string
  project?: string
  limit?: number
}

const MAX_PEER_ROWS = 200

/** The filter a peer's query becomes here (unknown fields dropped, the row count bounded). */
export function peerFilter(q: unknown): AuditFilter {
  const o = (q && typeof q === "object" ? q : {}) as Record<string, unknown>
  const str = (k: string) => (typeof o[k] === "string" && o[k] ? String(o[k]).slice(0, 330) : undefined)
  const limit = typeof o.limit === "number" && o.limit > 0 ? Math.min(MAX_PEER_ROWS, Math.floor(o.limit)) : 50
  return { actor: str("actor"), action: str("action"), project: str("project"), limit }
}

/** This pool's part of the view, as it answers a peer too. */
export async function localAudit(audit: AuditService, filter: AuditFilter) {
  return { rows: await audit.list(filter), verify: await audit.verify() }
}

export async function clusterAuditView(
  o: { audit: AuditService; poolName: string; fed?: Federation; minTrust: number; timeoutMs?: number },
  query: PeerAuditQuery,
): Promise<ClusterAudit> {
  const filter = peerFilter(query)
  const local = { pool: o.poolName, ...(await localAudit(o.audit, filter)) }
  const fed = o.fed
  if (!fed || fed.config.fedMode === "off") return clusterAudit(local, [])
  const peers = (await trustedPeers(fed.sql, o.minTrust)).map((p) => ({
    pool: p.pool_name ?? p.atom_id,
    ask: (signal: AbortSignal) =>
      signedFetch(fed.identity, p.url, AUDIT_PEER_PATH, {
        body: { ...query, limit: filter.limit },
        now: fed.clock.now(),
        timeoutMs: o.timeoutMs ?? 3000,
        signal,
      }),
  }))
  return clusterAudit(local, peers, o.timeoutMs ?? 3000)
}
