// core/federation/gossip — publishing local changes as signed envelopes and ingesting peers' ones:
// verify, order per origin, apply last-writer-wins, record in the append-only log. Pure SQL + crypto,
// no HTTP: the loops and routes call these.
import type { Clock } from "../clock.ts"
import type { Sql, Tx } from "../db/client.ts"
import { CelluleError } from "../errors.ts"
import { logger } from "../log.ts"
import { canonical, malformed, signEnvelope, verifyEnvelope, type Envelope } from "./envelope.ts"
import { decodeHlc, type HybridClock } from "./hlc.ts"
import type { Identity } from "./identity.ts"
import { parseRedacted } from "./kinds/document.ts"
import { KINDS, type ReplicatedKind } from "./kinds/index.ts"

const log = logger("federation")

/** Envelopes more than this far in the future (by their HLC) are refused. */
export const MAX_CLOCK_SKEW_MS = 5 * 60_000

export type RefusalReason =
  | "envelope_malformed"
  | "envelope_unsigned"
  | "envelope_version"
  | "origin_unknown"
  | "origin_revoked"
  | "signature_invalid"
  | "origin_untrusted"
  | "kind_unknown"
  | "payload_invalid"
  | "clock_skew"
  | "replay"
  | "equivocation"
  | "sequence_gap"

export interface IngestResult {
  applied: number
  superseded: number
  observed: number
  refused: { origin?: string; seq?: number; reason: RefusalReason }[]
}

export interface IngestOptions {
  self: Identity
  hlc: HybridClock
  clock: Clock
  mode: "active" | "observe"
  minTrust: number
  /** The bonded peer that delivered the batch (null: local tooling). */
  fromPeer: string | null
  /** How much of federation_rejects to keep (a flood of bad envelopes must not grow it without end). */
  rejects?: RejectsRetention
}

export interface RejectsRetention {
  maxAgeMs: number
  maxRows: number
}

/** Drop refusals older than maxAgeMs, then all but the newest maxRows. */
export async function pruneRejects(sql: Sql, now: number, keep: RejectsRetention): Promise<number> {
  const rows = await sql`delete from federation_rejects where at < ${new Date(now - keep.maxAgeMs)}
                           or id <= (select id from federation_rejects order by id desc offset ${keep.maxRows} limit 1)
                         returning id`
  return rows.length
}

interface PeerRow {
  atom_id: string
  pubkey: string
  trust_level: number
  revoked_at: Date | null
}

async function insertLog(tx: Tx | Sql, e: Envelope, status: string, from: string | null) {
  await tx.unsafe(
    `insert into federation_log (origin, seq, hlc, kind, payload, sig, received_from, status, redacted_at) values ($1, $2, $3, $4, $5::text::jsonb, $6, $7, $8, ${e.redacted ? "now()" : "null"})`,
    [e.origin, e.seq, e.hlc, e.kind, canonical(e.payload), e.sig, from, status],
  )
}

/** Apply a local change: stamp, sign, apply, log — in one transaction. */
export async function publish(
  sql: Sql,
  self: Identity,
  hlc: HybridClock,
  kind: string,
  payload: unknown,
): Promise<Envelope> {
  const k = KINDS.get(kind)
  if (!k) throw new CelluleError("kind_unknown", `no replicated kind "${kind}"`, 400)
  const p = k.parse(payload)
  return sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(${SEQ_LOCK})`
    const [{ hw }] = await tx<
      { hw: string }[]
    >`select coalesce(max(seq), 0)::text as hw from federation_log where origin = ${self.atomId}`
    const env = signEnvelope(self, { seq: Number(hw) + 1, hlc: hlc.tick(), kind, payload: p })
    const stamp = { hlc: env.hlc, origin: env.origin }
    const won = await k.apply(tx, p, stamp)
    await insertLog(tx, env, won ? "applied" : "superseded", null)
    if (!won) await k.afterLog?.(tx, p, stamp)
    return env
  }) as Promise<Envelope>
}

/** One origin's high-water mark (0 if none): a primary-key lookup, cheap enough for every relay tick. */
export async function originHighWater(sql: Sql, origin: string): Promise<number> {
  const [row] = await sql<
    { hw: string }[]
  >`select coalesce(max(seq), 0)::text as hw from federation_log where origin = ${origin}`
  return Number(row.hw)
}

export async function highWater(sql: Sql | Tx): Promise<Record<string, number>> {
  const rows = await sql<
    { origin: string; hw: string }[]
  >`select origin, max(seq)::text as hw from federation_log group by origin`
  return Object.fromEntries(rows.map((r) => [r.origin, Number(r.hw)]))
}

// payload is read as text and parsed here: drivers differ on whether jsonb arrives parsed.
function rowToEnvelope(r: {
  origin: string
  seq: string
  hlc: string
  kind: string
  payload: string
  sig: string
  redacted: boolean
}): Envelope {
  return {
    v: 1,
    origin: r.origin,
    seq: Number(r.seq),
    hlc: r.hlc,
    kind: r.kind,
    payload: JSON.parse(r.payload),
    sig: r.sig,
    ...(r.redacted ? { redacted: true as const } : {}),
  }
}

/**
 * Envelopes this pool holds beyond `have` (per-origin high-water marks), oldest first per origin, at
 * most `limit` of them and about `maxBytes` of payload (always at least one): a batch of large
 * envelopes (a document's chunks and vectors) stays under the peer's body limit.
 */
export async function missingFor(
  sql: Sql,
  have: Record<string, number>,
  limit = 1000,
  exceptOrigin?: string,
  maxBytes = MAX_BATCH_BYTES,
  /** Only origins named in `have` (what a peer asked for), so others do not use up the batch. */
  knownOnly = false,
): Promise<Envelope[]> {
  const mine = await highWater(sql)
  const out: Envelope[] = []
  let bytes = 0
  for (const [origin, hw] of Object.entries(mine)) {
    if (origin === exceptOrigin || (knownOnly && !(origin in have))) continue
    const from = Number(have[origin] ?? 0)
    if (!(hw > from) || out.length >= limit || bytes >= maxBytes) continue
    const rows = await sql`select origin, seq::text, hlc, kind, payload::text as payload, sig,
                                  redacted_at is not null as redacted from federation_log
                           where origin = ${origin} and seq > ${from} order by seq limit ${limit - out.length}`
    for (const r of rows) {
      const size = (r.payload as string).length + 300
      if (out.length && bytes + size > maxBytes) break
      out.push(rowToEnvelope(r as any))
      bytes += size
    }
  }
  return out
}

/** Payload bytes per gossip batch at most: under the bonding guard's body limit (4 × the 1 MiB JSON default). */
export const MAX_BATCH_BYTES = 3 * 1024 * 1024

/** Serialises sequence assignment and ingest across connections (external PostgreSQL has several). */
const SEQ_LOCK = 0x63656c6c // "cell"

/**
 * Verify and apply a batch from a peer. Signatures and trust are checked first (no database work for a
 * bad envelope); then one transaction applies, in order, every envelope that is next for its origin.
 * Duplicates cost one shared query. Refusals are recorded, in batch order.
 */
export async function ingest(sql: Sql, opts: IngestOptions, batch: unknown[]): Promise<IngestResult> {
  const res: IngestResult = { applied: 0, superseded: 0, observed: 0, refused: [] }
  const peers = new Map(
    (await sql<PeerRow[]>`select atom_id, pubkey, trust_level, revoked_at from federation_peers`).map((p) => [
      p.atom_id,
      p,
    ]),
  )
  const fromTrusted = opts.fromPeer ? (peers.get(opts.fromPeer)?.trust_level ?? 0) >= opts.minTrust : true
  const refusals: { i: number; e: Envelope; reason: RefusalReason; detail?: string }[] = []
  const candidates: { i: number; e: Envelope; kind: ReplicatedKind; payload: unknown }[] = []

  // biome-ignore lint/suspicious/useIterableCallbackReturn: refuse() returns void; `return refuse()` ends this envelope's checks
  batch.forEach((raw, i) => {
    const e = raw as Envelope
    const refuse = (reason: RefusalReason, detail?: string) => void refusals.push({ i, e, reason, detail })
    const bad = malformed(e)
    if (bad) return refuse(bad as RefusalReason)
    if (e.origin === opts.self.atomId) return refuse("replay", "our own envelope")
    const peer = peers.get(e.origin)
    if (!peer) return refuse("origin_unknown")
    if (peer.revoked_at) return refuse("origin_revoked")
    // A redacted copy (ids and hash only) cannot be verified: it is taken only from a trusted peer, for
    // the kinds that are ever redacted, and never applied. Its signature is kept: should the original
    // ever arrive, a different one reads as an equivocation.
    if (e.redacted !== undefined && (e.redacted !== true || !opts.fromPeer || !fromTrusted))
      return refuse("signature_invalid", "a redacted copy comes only from a trusted peer")
    if (!e.redacted && !verifyEnvelope(peer.pubkey, e)) return refuse("signature_invalid")
    if (peer.trust_level < opts.minTrust)
      return refuse("origin_untrusted", `trust ${peer.trust_level} < ${opts.minTrust}`)
    const kind = KINDS.get(e.kind)
    if (!kind) return refuse("kind_unknown", e.kind)
    let payload: unknown
    try {
      payload = e.redacted ? parseRedacted(e.kind, e.payload) : kind.parse(e.payload)
    } catch (err) {
      return refuse("payload_invalid", (err as Error).message)
    }
    if (decodeHlc(e.hlc)!.wall > opts.clock.now() + MAX_CLOCK_SKEW_MS) return refuse("clock_skew", e.hlc)
    candidates.push({ i, e, kind, payload })
  })

  const dupes: { i: number; e: Envelope }[] = []
  if (candidates.length) {
    const origins = [...new Set(candidates.map((c) => c.e.origin))]
    await sql.begin(async (tx) => {
      await tx`select pg_advisory_xact_lock(${SEQ_LOCK})`
      const rows = await tx<
        { origin: string; hw: string }[]
      >`select origin, max(seq)::text as hw from federation_log where origin = any(${origins}) group by origin`
      const hw = new Map(rows.map((r) => [r.origin, Number(r.hw)]))
      for (const c of candidates) {
        const at = hw.get(c.e.origin) ?? 0
        if (c.e.seq <= at) {
          dupes.push(c)
          continue
        }
        if (c.e.seq > at + 1) {
          refusals.push({ i: c.i, e: c.e, reason: "sequence_gap" })
          continue
        }
        hw.set(c.e.origin, c.e.seq)
        if (opts.mode === "observe") {
          await insertLog(tx, c.e, "observed", opts.fromPeer)
          res.observed++
          continue
        }
        if (c.e.redacted) {
          await insertLog(tx, { ...c.e, payload: c.payload }, "superseded", opts.fromPeer)
          res.superseded++
          continue
        }
        const stamp = { hlc: c.e.hlc, origin: c.e.origin }
        const won = await c.kind.apply(tx, c.payload, stamp)
        await insertLog(tx, c.e, won ? "applied" : "superseded", opts.fromPeer)
        if (!won) await c.kind.afterLog?.(tx, c.payload, stamp)
        res[won ? "applied" : "superseded"]++
      }
    })
    for (const c of candidates) if (!dupes.includes(c) && !refusals.some((r) => r.i === c.i)) opts.hlc.observe(c.e.hlc)
    if (res.observed) log.info(`observed (not applied) ${res.observed} envelope(s) from ${opts.fromPeer}`)
  }
  if (dupes.length) {
    // Same origin and number: a harmless replay if the bytes match, an equivocation if they do not.
    const stored = await sql<{ origin: string; seq: string; sig: string }[]>`
      select origin, seq::text, sig from federation_log where origin = any(${[...new Set(dupes.map((d) => d.e.origin))]}) and seq = any(${[...new Set(dupes.map((d) => d.e.seq))]})`
    const sigOf = new Map(stored.map((r) => [`${r.origin}#${r.seq}`, r.sig]))
    for (const d of dupes)
      refusals.push({
        i: d.i,
        e: d.e,
        reason: sigOf.get(`${d.e.origin}#${d.e.seq}`) === d.e.sig ? "replay" : "equivocation",
      })
  }

  refusals.sort((a, b) => a.i - b.i)
  let recorded = 0
  for (const { e, reason, detail } of refusals) {
    const origin = typeof e?.origin === "string" ? e.origin.slice(0, 80) : undefined
    const seq = typeof e?.seq === "number" && Number.isSafeInteger(e.seq) ? e.seq : undefined
    res.refused.push({ origin, seq, reason })
    // A trusted peer relaying what we already have, or ahead of a gap anti-entropy will fill, is routine.
    if (reason === "sequence_gap" || (reason === "replay" && fromTrusted)) {
      log.debug(`skipped ${reason} ${origin}#${seq} from ${opts.fromPeer}`)
      continue
    }
    log.warn(
      `refused envelope ${origin ?? "?"}#${seq ?? "?"} from ${opts.fromPeer ?? "local"}: ${reason}${detail ? ` (${detail})` : ""}`,
    )
    await sql`insert into federation_rejects (at, from_peer, origin, seq, kind, reason, detail)
              values (${new Date(opts.clock.now())}, ${opts.fromPeer}, ${origin ?? null}, ${seq ?? null}, ${typeof e?.kind === "string" ? e.kind.slice(0, 80) : null}, ${reason}, ${detail?.slice(0, 500) ?? null})`
    recorded++
  }
  if (recorded && opts.rejects) await pruneRejects(sql, opts.clock.now(), opts.rejects)
  return res
}
