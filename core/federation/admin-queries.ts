// core/federation/admin-queries — the read side of the federation admin API and the replicated
// admin resources (rejects, the envelope log, cluster-wide settings, sites, projects). The HTTP edge
// calls these by name; it never writes SQL itself.
import type { Sql } from "../db/client.ts"

/** An admin's `?limit=`: 100 by default, at most 1000. */
export const listLimit = (raw: unknown) => Math.min(Number(raw ?? 100) || 100, 1000)

export const listRejects = (sql: Sql, limit: number) =>
  sql`select id, at, from_peer, origin, seq::text as seq, kind, reason, detail
      from federation_rejects order by id desc limit ${limit}`

export const listEnvelopeLog = (sql: Sql, limit: number) =>
  sql`select origin, seq::float8 as seq, hlc, kind, payload::text as payload, sig, received_from, status, at
      from federation_log order by at desc, origin, seq desc limit ${limit}`

// jsonb is read as text and parsed here: drivers differ on whether it arrives parsed.
const parseValues = (rows: readonly Record<string, unknown>[]) =>
  rows.map((r) => ({ ...r, value: JSON.parse(String(r.value)) }))

export async function listClusterSettings(sql: Sql) {
  return parseValues(
    await sql`select key, value::text as value, hlc, origin, updated_at from cluster_settings order by key`,
  )
}

/** One cluster-wide setting as replicated, or undefined when it was never set. */
export async function getClusterSetting(sql: Sql, key: string) {
  const [row] = parseValues(
    await sql`select key, value::text as value, hlc, origin, updated_at from cluster_settings where key = ${key}`,
  )
  return row
}

export const listSites = (sql: Sql) =>
  sql`select site_id, name, headcount, pool, hlc, origin, updated_at from sites order by site_id`

/** Sites with their declared headcount, by name (the balancing page). */
export const siteHeadcounts = (sql: Sql) =>
  sql<{ site_id: string; name: string; headcount: number; pool: string | null }[]>`
    select site_id, name, headcount, pool from sites order by name`

/**
 * The headcount that sizes this pool's automatic queue bound: the sites it serves plus those that name
 * no pool (without `self`, or when no site names any pool: every site's).
 */
export async function declaredHeadcount(sql: Sql, self?: string): Promise<number> {
  const [r] = self
    ? await sql<{ n: number }[]>`
        select coalesce(sum(headcount), 0)::int as n from sites where pool is null or pool = ${self}`
    : await sql<{ n: number }[]>`select coalesce(sum(headcount), 0)::int as n from sites`
  return r.n
}

/** Declared headcount per serving pool (sites that name one), for the balancer's weights. */
export const headcountByPool = (sql: Sql) =>
  sql<{ pool: string; headcount: number }[]>`
    select pool, coalesce(sum(headcount), 0)::int as headcount from sites where pool is not null group by pool`

export const listProjects = (sql: Sql) =>
  sql`select id, name, description, origin, created_at from projects order by created_at, id`
