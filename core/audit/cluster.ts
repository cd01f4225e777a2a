// core/audit/cluster — the cluster view: each pool keeps its own chain; this asks every trusted peer
// (through a signed call the caller provides) for its rows and chain status, in parallel, each with a
// timeout, and names the pools that did not answer instead of failing the whole view.
import type { AuditRow } from "./query.ts"
import type { VerifyResult } from "./verify.ts"

export interface PoolAudit {
  pool: string
  rows: AuditRow[]
  verify: VerifyResult
}

/** One trusted peer: its name and a signed request for its audit (rows matching the filter + verify). */
export interface AuditPeer {
  pool: string
  ask: (signal: AbortSignal) => Promise<Omit<PoolAudit, "pool">>
}

export interface ClusterAudit {
  pools: PoolAudit[]
  /** Pools that did not answer in time or answered an error, with why. */
  unreachable: { pool: string; reason: string }[]
}

export async function clusterAudit(local: PoolAudit, peers: AuditPeer[], timeoutMs = 3000): Promise<ClusterAudit> {
  const unreachable: ClusterAudit["unreachable"] = []
  const answers = await Promise.all(
    peers.map(async (p): Promise<PoolAudit | null> => {
      const ctl = new AbortController()
      const timer = setTimeout(() => ctl.abort(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs)
      try {
        const aborted = new Promise<never>((_, reject) =>
          ctl.signal.addEventListener("abort", () => reject(ctl.signal.reason)),
        )
        return { pool: p.pool, ...(await Promise.race([p.ask(ctl.signal), aborted])) }
      } catch (e) {
        unreachable.push({ pool: p.pool, reason: (e as Error).message })
        return null
      } finally {
        clearTimeout(timer)
      }
    }),
  )
  return { pools: [local, ...answers.filter((a): a is PoolAudit => a !== null)], unreachable }
}
