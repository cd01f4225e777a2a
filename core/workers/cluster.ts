// core/workers/cluster — worker identity across bonded pools (issue 14.4): publishes this pool's
// enrolments and revocations as "worker_token" envelopes, closes the connections of tokens revoked on
// any pool, publishes this pool's release public key ("release_key"), and keeps the trusted peers' URLs
// and release keys that welcome hands to workers for failover. Never
// decides trust itself: which peers count is the federation's minimum trust level.
import type { Sql } from "../db/client.ts"
import { Loop } from "../federation/loop.ts"
import type { WorkerTokenPayload } from "../federation/kinds/worker-token.ts"
import { logger } from "../log.ts"

const log = logger("workers.cluster")

/** How often the outbox and revocations are looked at: with 200 ms gossip, a revocation lands everywhere in about 1 s. */
export const CLUSTER_SWEEP_MS = 500

export interface ClusterWorkersOptions {
  /** Replicate a change (Federation.publish: applied here, then gossiped). */
  publish: (kind: string, payload: unknown) => Promise<unknown>
  /** The per-worker token ids with a live connection on this pool. */
  liveTokenIds: () => number[]
  /** Close every connection of a revoked token. */
  closeToken: (tokenId: number) => number
  minTrust: number
  /** This pool's atom id and release public key: published as a "release_key" envelope at boot. */
  releaseKey?: { atomId: string; publicKey: string }
  intervalMs?: number
}

export class ClusterWorkers {
  private readonly loop: Loop
  /** Trusted peers' URLs, refreshed each sweep: welcome.peer_pool_urls. */
  peerUrls: string[] = []
  /** Trusted peers' release public keys by URL, refreshed each sweep: welcome.peer_release_keys. */
  peerReleaseKeys: Record<string, string> = {}

  constructor(
    private readonly sql: Sql,
    private readonly o: ClusterWorkersOptions,
  ) {
    this.loop = new Loop("worker identity", o.intervalMs ?? CLUSTER_SWEEP_MS, () => this.tick(), log)
  }

  get state() {
    return this.loop.state
  }

  start() {
    this.loop.start({ immediate: true })
  }

  /** Run a sweep now (a token was just enrolled or revoked here). */
  kick() {
    this.loop.kick()
  }

  stop() {
    return this.loop.stop()
  }

  private async tick() {
    await this.publishReleaseKey()
    await this.publishPending()
    await this.closeRevoked()
    const peers = await this.sql<{ url: string }[]>`select url from federation_peers
      where trust_level >= ${this.o.minTrust} and revoked_at is null order by pool_name, atom_id`
    this.peerUrls = peers.map((p) => p.url)
    const keys = await this.sql<{ url: string; public_key: string }[]>`select p.url, k.public_key
      from federation_peers p join release_keys k on k.atom_id = p.atom_id
      where p.trust_level >= ${this.o.minTrust} and p.revoked_at is null`
    this.peerReleaseKeys = Object.fromEntries(keys.map((k) => [k.url, k.public_key]))
  }

  /** Idempotent: publishes this pool's release public key only when the replicated one differs. */
  private async publishReleaseKey() {
    const mine = this.o.releaseKey
    if (!mine) return
    const [stored] = await this.sql<{ public_key: string }[]>`select public_key from release_keys
      where atom_id = ${mine.atomId}`
    if (stored?.public_key === mine.publicKey) return
    await this.o.publish("release_key", { atom_id: mine.atomId, public_key: mine.publicKey })
    log.info("published this pool's release public key to bonded pools")
  }

  /**
   * The outbox is the rows never stamped (hlc ''): enrolled or revoked here since the last sweep, or
   * before this pool replicated tokens at all. Publishing stamps them, so each goes out once.
   */
  private async publishPending() {
    const rows = await this.sql<(Omit<WorkerTokenPayload, "revoked"> & { revoked: boolean })[]>`
      select encode(token_hash, 'hex') as token_hash, name, os, hardware, revoked_at is not null as revoked
      from worker_tokens where hlc = '' order by id limit 100`
    for (const r of rows) {
      const p: WorkerTokenPayload = {
        token_hash: r.token_hash,
        name: r.name,
        os: r.os,
        hardware: r.hardware,
        revoked: r.revoked,
      }
      await this.o.publish("worker_token", p)
      log.info(`published worker token ${r.name}${r.revoked ? " (revoked)" : ""} to bonded pools`)
    }
    if (rows.length === 100) this.loop.kick()
  }

  /** A revocation that arrived from a peer closes the worker's connections here too. */
  private async closeRevoked() {
    const live = this.o.liveTokenIds()
    if (!live.length) return
    const revoked = await this.sql<{ id: string }[]>`select id from worker_tokens
      where id = any(${live}) and revoked_at is not null`
    for (const r of revoked) this.o.closeToken(Number(r.id))
  }
}
