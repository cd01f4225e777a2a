// core/federation/peers — bonded peers, trust levels and single-use attachment tokens (24 h).
import type { Clock } from "../clock.ts"
import type { Sql } from "../db/client.ts"
import { CelluleError, Conflict, NotFound } from "../errors.ts"
import { hashToken, newToken } from "../crypto/token.ts"
import type { Link } from "./topology.ts"

export const ATTACHMENT_TOKEN_TTL_MS = 24 * 3600_000

export interface Peer {
  atom_id: string
  pubkey: string
  url: string
  pool_name: string | null
  trust_level: number
  first_seen: Date
  last_seen: Date | null
  stable_since: Date | null
  latency_ms: number | null
  link: Link | null
  revoked_at: Date | null
  /** How the bond was made (null: before this was recorded). Only token and pinned may auto-promote. */
  bonded_via: BondedVia | null
}

export type BondedVia = "token" | "pinned" | "admin"

export async function listPeers(sql: Sql): Promise<Peer[]> {
  return sql<Peer[]>`select * from federation_peers order by pool_name, atom_id`
}

/** Bonded, non-revoked peers trusted at `minTrust` or more: the ones whose changes, requests and counts are taken. */
export async function trustedPeers(sql: Sql, minTrust: number): Promise<Peer[]> {
  return sql<
    Peer[]
  >`select * from federation_peers where trust_level >= ${minTrust} and revoked_at is null order by pool_name, atom_id`
}

export async function getPeer(sql: Sql, atomId: string): Promise<Peer | undefined> {
  const [p] = await sql<Peer[]>`select * from federation_peers where atom_id = ${atomId}`
  return p
}

/**
 * Insert a new bond at trust 1, or refresh url/name of an existing one with the same key. A bond later
 * confirmed with a token or a pinned key records that (never the other way round).
 */
export async function upsertPeer(
  sql: Sql,
  p: { atom_id: string; pubkey: string; url: string; pool_name: string | null; via: BondedVia },
): Promise<Peer> {
  return sql.begin(async (tx) => {
    const [old] = await tx<Peer[]>`select * from federation_peers where atom_id = ${p.atom_id} for update`
    if (old && old.pubkey !== p.pubkey)
      throw new Conflict(`peer ${p.atom_id} is bonded with a different key`, "peer_key_changed")
    if (old?.revoked_at)
      throw new CelluleError("peer_revoked", `peer ${p.atom_id} was revoked; unbond it before bonding again`, 403)
    const [row] = old
      ? await tx<Peer[]>`update federation_peers set url = ${p.url}, pool_name = ${p.pool_name},
            bonded_via = case when ${p.via} = 'admin' then bonded_via else ${p.via} end
          where atom_id = ${p.atom_id} returning *`
      : await tx<
          Peer[]
        >`insert into federation_peers (atom_id, pubkey, url, pool_name, trust_level, bonded_via) values (${p.atom_id}, ${p.pubkey}, ${p.url}, ${p.pool_name}, 1, ${p.via}) returning *`
    return row
  }) as Promise<Peer>
}

export async function promotePeer(sql: Sql, atomId: string, level: number): Promise<Peer> {
  if (!Number.isInteger(level) || level < 1 || level > 3)
    throw new CelluleError("trust_level_invalid", "target_level must be 1, 2 or 3", 400)
  const [row] = await sql<
    Peer[]
  >`update federation_peers set trust_level = ${level} where atom_id = ${atomId} and revoked_at is null returning *`
  if (!row) throw new NotFound(`no active bond with ${atomId}`, "peer_not_found")
  return row
}

/** Revoke: keep the row (history, refusals) but trust nothing from it. */
export async function revokePeer(sql: Sql, atomId: string, clock: Clock): Promise<Peer> {
  const [row] = await sql<
    Peer[]
  >`update federation_peers set trust_level = 0, revoked_at = ${new Date(clock.now())} where atom_id = ${atomId} returning *`
  if (!row) throw new NotFound(`no bond with ${atomId}`, "peer_not_found")
  return row
}

/** Unbond: forget the peer entirely (a new hello with a token can bond it again). */
export async function unbondPeer(sql: Sql, atomId: string): Promise<void> {
  const rows = await sql`delete from federation_peers where atom_id = ${atomId} returning atom_id`
  if (!rows.length) throw new NotFound(`no bond with ${atomId}`, "peer_not_found")
}

export async function createAttachmentToken(sql: Sql, clock: Clock): Promise<{ token: string; expires_at: string }> {
  const token = newToken("cfa_")
  const expires = new Date(clock.now() + ATTACHMENT_TOKEN_TTL_MS)
  await sql`insert into federation_attachment_tokens (token_hash, created_at, expires_at) values (${hashToken(token)}, ${new Date(clock.now())}, ${expires})`
  return { token, expires_at: expires.toISOString() }
}

/** Consume a token (single use). False when unknown, used or expired. Call inside the bonding transaction. */
export async function consumeAttachmentToken(sql: Sql, token: string, usedBy: string, clock: Clock): Promise<boolean> {
  const rows = await sql`update federation_attachment_tokens set used_at = ${new Date(clock.now())}, used_by = ${usedBy}
                         where token_hash = ${hashToken(token)} and used_at is null and expires_at > ${new Date(clock.now())} returning used_by`
  return rows.length === 1
}

/**
 * A CELLULE_BOND_PEERS entry: `host:port` or a URL, optionally pinned to the peer's atom id
 * (`http://pool-b:18091#atom_…`). Only a pinned entry lets that peer bond without an attachment token.
 */
export function parseBondEntry(entry: string): { url: string; atomId: string | null } {
  const [addr, pin] = entry.split("#", 2)
  if (pin !== undefined && !/^atom_[0-9a-f]{32}$/.test(pin))
    throw new CelluleError(
      "bond_peers_invalid",
      `CELLULE_BOND_PEERS entry ${JSON.stringify(entry.slice(0, 200))}: after "#" comes the peer's atom id (atom_ and 32 hex digits)`,
      400,
      "read the atom id from the peer's GET /v1/federation/identity or its Federation page",
    )
  return { url: normaliseUrl(addr), atomId: pin ?? null }
}

/** "host:port" of a URL or bare host:port entry, for matching CELLULE_BOND_PEERS. */
export function hostPort(entry: string): string {
  const u = new URL(/^[a-z]+:\/\//i.test(entry) ? entry : `http://${entry}`)
  return `${u.hostname.toLowerCase()}:${u.port || (u.protocol === "https:" ? "443" : "80")}`
}

export function normaliseUrl(entry: string): string {
  let u: URL
  try {
    u = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(entry) ? entry : `http://${entry}`)
  } catch {
    throw new CelluleError("peer_url_invalid", "not a pool URL (http://host:port or https://host)", 400)
  }
  if (u.protocol !== "http:" && u.protocol !== "https:")
    throw new CelluleError("peer_url_invalid", "a pool URL is http:// or https://", 400)
  return `${u.protocol}//${u.host}`
}

/** A pool a `cellule proxy` may send requests to: only what a client needs, nothing secret. */
export interface EntryPool {
  url: string
  pool_name: string | null
  atom_id: string
}

/** `self` first, then the bonded, non-revoked peers trusted at `minTrust` or more. */
export async function entryPools(sql: Sql, self: EntryPool, minTrust: number): Promise<EntryPool[]> {
  const rows = await trustedPeers(sql, minTrust)
  return [self, ...rows.map((r) => ({ url: r.url, pool_name: r.pool_name, atom_id: r.atom_id }))]
}
