// Signed pool-to-pool calls (every one checked by core/http/peer-guard.ts before routing):
//   POST /v1/federation/p2p/hello | gossip | pull, GET …/hw | …/links — bonding and replication;
//   GET …/document-bytes/{sha256} — a replicated document's original bytes, for a trusted peer;
//   GET …/model-files/{name} — a catalogue model file (HTTP Range), for a trusted satellite copying it;
//   GET /v1/federation/forward-capacity[?worker_id=] — what this pool can serve, for a peer choosing where to
//   forward (and whether one migrating worker arrived);
//   GET /v1/federation/key-usage | key-usage-daily — this pool's counts per API key, which peers merge
//   (core/auth/key-usage-sync.ts) to enforce limits and chart usage cluster-wide.
import { Elysia } from "elysia"
import { CelluleError } from "../../errors.ts"
import { AUDIT_PEER_PATH, localAudit, peerFilter } from "../../audit/cluster-peers.ts"
import { audited } from "../audit-trail.ts"
import type { PoolServices } from "../../pool/services.ts"
import { CAPACITY_PATH, capacityOf } from "../../scheduler/forward.ts"
import { DAILY_DAYS, DAILY_USAGE_PATH, KEY_USAGE_PATH } from "../../auth/key-usage-sync.ts"
import { storedFileResponse } from "../file-response.ts"
import { bondingPeerGuard, P2P_PATH as P2P, trustedPeerGuard } from "../peer-guard.ts"

/** Calls from trusted peers: forward capacity, key usage, the audit view (mounted with the API keys). */
export const peerUsageRoutes = (s: PoolServices) => {
  const keys = s.apiKeys!
  const peers = trustedPeerGuard(s)
  return (
    new Elysia()
      .get(CAPACITY_PATH, ({ request }) => {
        peers.verified(request)
        // worker_ids: the target's own view of its workers, which completes a migration order (issue 17).
        // A caller names the worker it looks for (?worker_id=, empty: none), so the answer stays the same
        // size at 5 000 workers as at 5; every id only for a caller that names none (a pool before 2026-12).
        const asked = new URL(request.url).searchParams.get("worker_id")
        return {
          models: capacityOf(s.scheduler),
          workers: s.scheduler.workers.size,
          worker_ids:
            asked === null ? [...s.scheduler.workers.keys()] : asked && s.scheduler.workers.has(asked) ? [asked] : [],
        }
      })
      // What this pool counted per API key, so peers enforce limits cluster-wide (key-usage-sync.ts).
      .get(KEY_USAGE_PATH, ({ request }) => {
        peers.verified(request)
        return keys.report()
      })
      .get(DAILY_USAGE_PATH, async ({ request }) => {
        peers.verified(request)
        return { rows: await keys.usage(DAILY_DAYS) }
      })
      // The cluster audit view of a trusted peer's Audit page: this pool's rows and chain status.
      // (the guard verified the signature over these bytes; the body is parsed like any JSON route's)
      .post(AUDIT_PEER_PATH, async ({ request, body }) => {
        peers.verified(request)
        return localAudit(s.audit, peerFilter(body))
      })
  )
}

/** The replication protocol between bonded pools. */
/** A gossip push's `reaches` list longer than this is ignored (treated as absent): no federation is that big. */
const MAX_REACHES = 1000

export const federationP2pRoutes = (s: PoolServices) => {
  const fed = s.federation!
  const calls = bondingPeerGuard(s)
  /** A call from a bonded peer: it signed with the key we hold, not one it presented. */
  const bonded = (request: Request, what: string) => {
    const v = calls.verified(request)
    if (v.caller.pubkey) throw new CelluleError("peer_unknown", what, 401)
    return v
  }
  return (
    new Elysia()
      .post(`${P2P}hello`, async ({ request, server }) => {
        const v = calls.verified(request)
        if (!v.caller.pubkey) {
          // Already bonded: the caller signed with its known key; refresh its URL/name.
          const p = await s.peers.get(v.caller.atomId)
          return fed.acceptHello({ atomId: v.caller.atomId, pubkey: p!.pubkey }, v.body)
        }
        // A new bond, accepted or refused (no or a spent attachment token), is in the audit log.
        const { atomId, pubkey } = v.caller
        return audited(
          s,
          { actor: { kind: "peer", id: atomId }, request, server },
          { action: "bond.accept", target: `peer:${atomId}`, details: { url: String(v.body?.url ?? "") } },
          () => fed.acceptHello({ atomId, pubkey }, v.body),
        )
      })
      .post(`${P2P}gossip`, async ({ request }) => {
        const v = bonded(request, "bond first (hello), then gossip")
        if (!Array.isArray(v.body?.envelopes))
          throw new CelluleError("validation_failed", "envelopes must be an array", 400)
        // Optional (older pools omit it): the peers the sender pushes its own envelopes to itself.
        const r = v.body.reaches
        const reaches =
          Array.isArray(r) && r.length <= MAX_REACHES && r.every((x) => typeof x === "string" && x.length <= 128)
            ? (r as string[])
            : undefined
        return fed.receive(v.caller.atomId, v.body.envelopes, reaches)
      })
      .post(`${P2P}pull`, async ({ request }) => {
        const v = bonded(request, "bond first (hello), then pull")
        const have = v.body?.have && typeof v.body.have === "object" ? v.body.have : {}
        return fed.pullFor(v.caller.atomId, have)
      })
      .get(`${P2P}hw`, async ({ request }) => fed.highWaterFor(bonded(request, "bond first").caller.atomId))
      // A replicated document's original bytes, for a trusted peer that holds its row (core/rag/replicate.ts).
      .get(`${P2P}document-bytes/:hash`, async ({ request, params }) => {
        const v = bonded(request, "bond first")
        const peer = await s.peers.get(v.caller.atomId)
        if (!peer || peer.trust_level < s.config.minTrustLevel)
          throw new CelluleError("peer_untrusted", "document bytes go to trusted peers only", 403)
        return { data: Buffer.from(await s.rag!.replication!.bytesFor(params.hash)).toString("base64") }
      })
      // A catalogue satellite copies a model file from the master (core/catalog/sync.ts), with Range.
      .get(`${P2P}model-files/:name`, async ({ request, params }) => {
        const v = bonded(request, "bond first")
        const peer = await s.peers.get(v.caller.atomId)
        if (!peer || peer.trust_level < s.config.minTrustLevel)
          throw new CelluleError("peer_untrusted", "model files go to trusted peers only", 403)
        return storedFileResponse(await s.catalog.storedModel(params.name), request.headers.get("range"))
      })
      .get(`${P2P}links`, async ({ request }) => {
        bonded(request, "bond first")
        return {
          links: (await fed.links()).map((l) => ({ atom_id: l.atom_id, latency_ms: l.latency_ms, link: l.link })),
        }
      })
  )
}
