// core/federation/gossip — publishing local changes as signed envelopes and ingesting peers' ones:
// verify, order per origin, apply last-writer-wins, record in the append-only log. Pure SQL + crypto,
// no HTTP: the loops and routes call these.
import type { Clock } from "../clock.ts"
import type { Sql, Tx } from "../db/client.ts"
import { CelluleError } from "../errors.ts"
import { logger } from "../log.ts"
import { canonical, malformed, signEnvelope, signingBytes, type Envelope } from "./envelope.ts"
import { decodeHlc, type HybridClock } from "./hlc.ts"
import { verifySig, type Identity } from "./identity.ts"
import { KINDS } from "./kinds/index.ts"

const log = logger("federation")

/** Envelopes more than this far in the future (by their HLC) are refused. */
export const MAX_CLOCK_SKEW_MS = 5 * 60_000

export type RefusalReason =
  | "envelope_malformed" | "envelope_unsigned" | "envelope_version" | "origin_unknown" | "origin_revoked"
  | "signature_invalid" | "origin_untrusted" | "kind_unknown" | "payload_invalid" | "clock_skew"
  | "replay" | "equivocation" | "sequence_gap"

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
}

interface PeerRow {
  atom_id: string
  pubkey: string
  trust_level: number
  revoked_at: Date | null
}

async function insertLog(tx: Tx | Sql, e: Envelope, status: string, from: string | null) {
  await tx.unsafe(
    `insert into federation_log (origin, seq, hlc, kind, payload, sig, received_from, status) values ($1, $2, $3, $4, $5::text::jsonb, $6, $7, $8)`,
    [e.origin, e.seq, e.hlc, e.kind, canonical(e.payload), e.sig, from, status],
  )
}

/** Apply a local change: stamp, sign, apply, log — in one transaction. */
export async function publish(sql: Sql, self: Identity, hlc: HybridClock, kind: string, payload: unknown): Promise<Envelope> {
  const k = KINDS.get(kind)
  if (!k) throw new CelluleError("kind_unknown", `no replicated kind "${kind}"`, 400)
  const p = k.parse(payload)
  return sql.begin(async (tx) => {
    const [{ hw }] = await tx<{ hw: string }[]>`select coalesce(max(seq), 0)::text as hw from federation_log where origin = ${self.atomId}`
    const env = signEnvelope(self, { seq: Number(hw) + 1, hlc: hlc.tick(), kind, payload: p })
    const won = await k.apply(tx, p, { hlc: env.hlc, origin: env.origin })
    await insertLog(tx, env, won ? "applied" : "superseded", null)
    return env
  }) as Promise<Envelope>
}

export async function highWater(sql: Sql | Tx): Promise<Record<string, number>> {
  const rows = await sql<{ origin: string; hw: string }[]>`select origin, max(seq)::text as hw from federation_log group by origin`
  return Object.fromEntries(rows.map((r) => [r.origin, Number(r.hw)]))
}

// payload is read as text and parsed here: drivers differ on whether jsonb arrives parsed.
function rowToEnvelope(r: { origin: string; seq: string; hlc: string; kind: string; payload: string; sig: string }): Envelope {
  return { v: 1, origin: r.origin, seq: Number(r.seq), hlc: r.hlc, kind: r.kind, payload: JSON.parse(r.payload), sig: r.sig }
}

/** Envelopes this pool holds beyond `have` (per-origin high-water marks), oldest first per origin. */
export async function missingFor(sql: Sql, have: Record<string, number>, limit = 1000, exceptOrigin?: string): Promise<Envelope[]> {
  const mine = await highWater(sql)
  const out: Envelope[] = []
  for (const [origin, hw] of Object.entries(mine)) {
    if (origin === exceptOrigin) continue
    const from = Number(have[origin] ?? 0)
    if (!(hw > from) || out.length >= limit) continue
    const rows = await sql`select origin, seq::text, hlc, kind, payload::text as payload, sig from federation_log
                           where origin = ${origin} and seq > ${from} order by seq limit ${limit - out.length}`
    for (const r of rows) out.push(rowToEnvelope(r as any))
  }
  return out
}

/** Verify and apply a batch from a peer. Envelopes are taken in order; refusals are recorded. */
export async function ingest(sql: Sql, opts: IngestOptions, batch: unknown[]): Promise<IngestResult> {
  const res: IngestResult = { applied: 0, superseded: 0, observed: 0, refused: [] }
  const peers = new Map((await sql<PeerRow[]>`select atom_id, pubkey, trust_level, revoked_at from federation_peers`).map((p) => [p.atom_id, p]))
  const fromTrusted = opts.fromPeer ? (peers.get(opts.fromPeer)?.trust_level ?? 0) >= opts.minTrust : true
  for (const raw of batch) {
    const e = raw as Envelope
    const refuse = async (reason: RefusalReason, detail?: string) => {
      const origin = typeof e?.origin === "string" ? e.origin.slice(0, 80) : undefined
      const seq = typeof e?.seq === "number" && Number.isSafeInteger(e.seq) ? e.seq : undefined
      res.refused.push({ origin, seq, reason })
      // A trusted peer relaying what we already have, or ahead of a gap anti-entropy will fill, is routine.
      if (reason === "sequence_gap" || (reason === "replay" && fromTrusted)) {
        log.debug(`skipped ${reason} ${origin}#${seq} from ${opts.fromPeer}`)
        return
      }
      log.warn(`refused envelope ${origin ?? "?"}#${seq ?? "?"} from ${opts.fromPeer ?? "local"}: ${reason}${detail ? ` (${detail})` : ""}`)
      await sql`insert into federation_rejects (from_peer, origin, seq, kind, reason, detail)
                values (${opts.fromPeer}, ${origin ?? null}, ${seq ?? null}, ${typeof e?.kind === "string" ? e.kind.slice(0, 80) : null}, ${reason}, ${detail ?? null})`
    }
    const bad = malformed(e)
    if (bad) {
      await refuse(bad as RefusalReason)
      continue
    }
    if (e.origin === opts.self.atomId) {
      await refuse("replay", "our own envelope")
      continue
    }
    const peer = peers.get(e.origin)
    if (!peer) {
      await refuse("origin_unknown")
      continue
    }
    if (peer.revoked_at) {
      await refuse("origin_revoked")
      continue
    }
    if (!verifySig(peer.pubkey, signingBytes(e), e.sig)) {
      await refuse("signature_invalid")
      continue
    }
    if (peer.trust_level < opts.minTrust) {
      await refuse("origin_untrusted", `trust ${peer.trust_level} < ${opts.minTrust}`)
      continue
    }
    const kind = KINDS.get(e.kind)
    if (!kind) {
      await refuse("kind_unknown", e.kind)
      continue
    }
    let payload: unknown
    try {
      payload = kind.parse(e.payload)
    } catch (err) {
      await refuse("payload_invalid", (err as Error).message)
      continue
    }
    if (decodeHlc(e.hlc)!.wall > opts.clock.now() + MAX_CLOCK_SKEW_MS) {
      await refuse("clock_skew", e.hlc)
      continue
    }
    const outcome = await sql.begin(async (tx) => {
      const [row] = await tx<{ hw: string; sig: string | null }[]>`
        select coalesce(max(seq), 0)::text as hw, (select sig from federation_log where origin = ${e.origin} and seq = ${e.seq}) as sig
        from federation_log where origin = ${e.origin}`
      const hw = Number(row.hw)
      if (e.seq <= hw) return row.sig === e.sig || row.sig === null ? "replay" : "equivocation"
      if (e.seq > hw + 1) return "sequence_gap"
      if (opts.mode === "observe") {
        await insertLog(tx, e, "observed", opts.fromPeer)
        return "observed"
      }
      const won = await kind.apply(tx, payload, { hlc: e.hlc, origin: e.origin })
      await insertLog(tx, e, won ? "applied" : "superseded", opts.fromPeer)
      return won ? "applied" : "superseded"
    })
    if (outcome === "applied" || outcome === "superseded" || outcome === "observed") {
      res[outcome]++
      opts.hlc.observe(e.hlc)
      if (outcome === "observed") log.info(`observed (not applied) ${e.kind} ${e.origin}#${e.seq}`)
    } else await refuse(outcome as RefusalReason)
  }
  return res
}
