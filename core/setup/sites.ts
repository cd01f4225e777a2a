// core/setup/sites — the wizard's sites feed the cluster's replicated site list (federation kind
// "site", the one source of declared headcount for Overview and Worker balancing). Knows nothing of
// federation itself: the pool passes the publish function.
import type { Sql } from "../db/client.ts"
import { logger } from "../log.ts"

const log = logger("setup")

export interface SitePublish {
  site_id: string
  name: string
  headcount: number
}

/** "Siège Paris" → "siege-paris": the replicated kind's id rule (lowercase, digits, - and _; ≤ 63). */
export function siteIdOf(name: string, fallback: string): string {
  const id = name
    .normalize("NFD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, "-")
    .replace(/^[-_]+|-+$/g, "")
    .slice(0, 63)
  return id || fallback
}

/**
 * Publishes every wizard site the replicated list does not know yet (by id). Idempotent: run at boot
 * (covers setups completed headlessly or by another process) and right after completion.
 */
export async function publishSetupSites(sql: Sql, publish: (site: SitePublish) => Promise<unknown>): Promise<number> {
  const wizard = await sql`select name, headcount from cluster_sites order by position, id`
  if (!wizard.length) return 0
  const known = new Set((await sql`select site_id from sites`.catch(() => [])).map((r) => r.site_id as string))
  let n = 0
  for (const [i, s] of wizard.entries()) {
    const site_id = siteIdOf(s.name, `site-${i + 1}`)
    if (known.has(site_id)) continue
    await publish({ site_id, name: s.name, headcount: Number(s.headcount) })
    known.add(site_id)
    n++
  }
  if (n) log.info(`published ${n} site(s) from the setup wizard to the cluster's site list`)
  return n
}
