// core/federation/bonding — making bonds: `register` (this pool asks a peer, an admin action or
// CELLULE_BOND_PEERS at boot), `acceptHello` (the peer side), and the bond-at-boot loop. A bond needs an
// attachment token unless the caller's key is pinned in CELLULE_BOND_PEERS (url#atom_id): a URL is only
// a claim. Outbound calls never follow redirects, time out quickly, and answer the caller generically.
import { CelluleError, Forbidden, ServiceUnavailable } from "../errors.ts"
import { logger } from "../log.ts"
import type { FedContext } from "./_context.ts"
import { atomIdOf, verifySig } from "./identity.ts"
import { Loop } from "./loop.ts"
import * as peers from "./peers.ts"
import { assertRoutable } from "./pool-url.ts"
import { classify, type Link } from "./topology.ts"
import { redirectRefused, signedFetch } from "./transport.ts"

const log = logger("federation")

/** Outbound bonding calls (hello, identity, ping) give up after this. */
export const BOND_CALL_TIMEOUT_MS = 5000

/** What a bonded-to pool signs to prove it holds its key: the caller's atom, its own, the caller's timestamp. */
export function helloProof(callerAtom: string, selfAtom: string, ts: number): Uint8Array {
  return Buffer.from(`cellule.fed.hello.v1\n${callerAtom}\n${selfAtom}\n${ts}`)
}

/** A new bond about to be recorded: the licence gate (max_pools, multi_site) decides on it. */
export interface NewBond {
  /** Pools in the cluster now: this one and its active bonds. */
  pools: number
  /** The link measured to the new peer at bond time; null when it could not be measured. */
  link: Link | null
}

function requireFederation(ctx: FedContext) {
  if (ctx.config.fedMode === "off")
    throw new ServiceUnavailable("federation_off", "federation is off on this pool (CELLULE_FED=off)")
}

/** Whether the pool at `url` answers its ping as `atomId` (null: as any atom; no redirect), and how fast (best of `n`). */
export async function pingAs(url: string, atomId: string | null, n = 1): Promise<number | null> {
  let best: number | null = null
  for (let i = 0; i < n; i++) {
    try {
      const t0 = performance.now()
      const res = await fetch(`${url}/v1/federation/ping`, {
        redirect: "manual",
        signal: AbortSignal.timeout(BOND_CALL_TIMEOUT_MS),
      })
      if (!res.ok) {
        // A body that already failed (connection reset) rejects its cancel: unhandled, Bun would end the process.
        res.body?.cancel().catch(() => {})
        return null
      }
      const body = (await res.json()) as { atom_id?: unknown }
      if (atomId ? body.atom_id !== atomId : typeof body.atom_id !== "string") return null
      const ms = performance.now() - t0
      best = best === null ? ms : Math.min(best, ms)
    } catch {
      return null
    }
  }
  return best
}

export class Bonding {
  /** Bond-at-boot: retries every CELLULE_BOND_PEERS entry until each is bonded. */
  readonly loop: Loop
  private pending: { url: string; atomId: string | null }[]
  /** Atom ids pinned in CELLULE_BOND_PEERS: these may bond without a token. */
  private pinned: Set<string>
  /** Set by the pool: refuses a new bond the licence does not cover (throws). */
  gate: (bond: NewBond) => Promise<void> = async () => {}

  /** `onBonded` runs after each new or refreshed bond (the facade kicks the latency probe). */
  constructor(
    private ctx: FedContext,
    private onBonded: () => void,
  ) {
    this.loop = new Loop("bond at boot", 1000, () => this.bondTick(), log, 30_000)
    this.pending = ctx.config.bondPeers.map(peers.parseBondEntry)
    this.pinned = new Set(this.pending.flatMap((e) => (e.atomId ? [e.atomId] : [])))
    const loose = this.pending.filter((e) => !e.atomId)
    if (loose.length)
      log.warn(
        `CELLULE_BOND_PEERS: ${loose.map((e) => e.url).join(", ")} not pinned (url#atom_id): this pool dials them at boot, but they bond only with an attachment token or a pin on their side`,
      )
  }

  get hasPending() {
    return this.pending.length > 0
  }

  /** The licence gate for a bond that does not exist yet (a refreshed bond is not a new one). */
  private async gateNew(url: string, atomId: string | null) {
    const active = (await peers.listPeers(this.ctx.sql)).filter((p) => !p.revoked_at)
    if (active.some((p) => (atomId ? p.atom_id === atomId : p.url === url))) return
    let rtt = await pingAs(url, atomId, 3)
    // A busy host (ours or the peer's) adds queueing delay, never removes any: before the licence calls a
    // link non-LAN, the smallest of more samples, spread out, is the link's own round trip.
    for (let i = 0; i < 6 && rtt !== null && classify(rtt) !== "lan"; i++) {
      await Bun.sleep(25)
      const again = await pingAs(url, atomId, 1)
      if (again !== null) rtt = Math.min(rtt, again)
    }
    await this.gate({ pools: 1 + active.length, link: rtt === null ? null : classify(rtt) })
  }

  /** Bond with the pool at `url` (admin action). With reciprocate, the peer records us in the same call. */
  async register(
    url: string,
    opts: { token?: string; reciprocate?: boolean; expectAtom?: string | null } = {},
  ): Promise<peers.Peer> {
    const { sql, identity, config } = this.ctx
    requireFederation(this.ctx)
    assertRoutable(this.ctx.url, config.fedAllowLoopbackUrl)
    const base = peers.normaliseUrl(url)
    // Before the hello, which already records us on the peer's side.
    await this.gateNew(base, null)
    const info = await this.fetchPeer(base, opts).catch((e) => {
      // The admin (or a peer's URL) chose where this went: say that it failed, not what answered.
      log.warn(`bonding with ${base} failed: ${(e as Error).message}`)
      throw genericBondError(base, e)
    })
    if (info.atom_id === identity.atomId) throw new CelluleError("bond_self", "a pool cannot bond with itself", 400)
    if (opts.expectAtom && info.atom_id !== opts.expectAtom)
      throw new CelluleError(
        "peer_not_pinned",
        `the pool at ${base} is ${info.atom_id}, not the pinned ${opts.expectAtom}`,
        409,
      )
    const via: peers.BondedVia = opts.token ? "token" : this.pinned.has(info.atom_id) ? "pinned" : "admin"
    const peer = await peers.upsertPeer(sql, {
      atom_id: info.atom_id,
      pubkey: info.pubkey,
      url: base,
      pool_name: info.pool_name ?? null,
      via,
    })
    log.info(`bonded with ${info.pool_name ?? "?"} (${info.atom_id}) at ${base}, trust ${peer.trust_level}`)
    this.onBonded()
    return peer
  }

  private async fetchPeer(
    base: string,
    opts: { token?: string; reciprocate?: boolean },
  ): Promise<{ atom_id: string; pubkey: string; pool_name: string | null }> {
    const { identity, config, clock } = this.ctx
    if (opts.reciprocate !== false) {
      const ts = clock.now()
      const res = await signedFetch<{ atom_id: string; pubkey: string; pool_name: string; sig: string }>(
        identity,
        base,
        "/v1/federation/p2p/hello",
        {
          body: { url: this.ctx.url, pool_name: config.poolName, token: opts.token, nonce_ts: ts },
          now: ts,
          withPubkey: true,
          timeoutMs: BOND_CALL_TIMEOUT_MS,
        },
      )
      if (
        typeof res?.pubkey !== "string" ||
        atomIdOf(res.pubkey) !== res.atom_id ||
        !verifySig(res.pubkey, helloProof(identity.atomId, res.atom_id, ts), res.sig)
      )
        throw new CelluleError("peer_proof_invalid", `the pool did not prove it holds the key of ${res?.atom_id}`, 502)
      return res
    }
    const r = await fetch(`${base}/v1/federation/identity`, {
      redirect: "manual",
      signal: AbortSignal.timeout(BOND_CALL_TIMEOUT_MS),
    })
    if (r.status >= 300 && r.status < 400) throw redirectRefused(base, r)
    const res = (await r.json()) as any
    if (typeof res?.pubkey !== "string" || atomIdOf(res.pubkey) !== res.atom_id)
      throw new CelluleError("peer_bad_response", "bad identity", 502)
    return res
  }

  /** The peer side of register: a caller that proved its key asks to be recorded. */
  async acceptHello(
    caller: { atomId: string; pubkey: string },
    body: { url?: unknown; pool_name?: unknown; token?: unknown; nonce_ts?: unknown },
  ) {
    const { sql, identity, config, clock } = this.ctx
    requireFederation(this.ctx)
    if (typeof body.url !== "string" || typeof body.nonce_ts !== "number")
      throw new CelluleError("validation_failed", "hello needs url and nonce_ts", 400)
    if (caller.atomId === identity.atomId) throw new CelluleError("bond_self", "a pool cannot bond with itself", 400)
    const url = peers.normaliseUrl(body.url)
    assertRoutable(url, config.fedAllowLoopbackUrl)
    const poolName = typeof body.pool_name === "string" ? body.pool_name.slice(0, 200) : null
    const existing = await peers.getPeer(sql, caller.atomId)
    // Only a key pinned in CELLULE_BOND_PEERS skips the token; the URL a caller claims proves nothing.
    const pinned = this.pinned.has(caller.atomId)
    let via: peers.BondedVia = pinned ? "pinned" : "admin"
    if (!existing) {
      await this.gateNew(url, caller.atomId)
      if (!pinned) {
        if (
          typeof body.token !== "string" ||
          !(await peers.consumeAttachmentToken(sql, body.token, caller.atomId, clock))
        )
          throw new Forbidden(
            "bonding needs a valid attachment token from this pool's dashboard (single use, 24 h)",
            "attachment_token_required",
          )
        via = "token"
      }
    }
    // A working path is never replaced by a claim (we may reach the peer through a tunnel or relay); a
    // path that does not work is (the peer fixed its POOL_URL, §4.5 P1), once the new one answers as
    // the caller: otherwise a bonded key could point our probes and gossip anywhere.
    let newUrl = existing?.url ?? url
    if (existing && url !== existing.url && !existing.stable_since) {
      if ((await pingAs(url, caller.atomId)) === null)
        throw new CelluleError(
          "peer_url_unverified",
          `${url} does not answer as ${caller.atomId}; the bond keeps its URL`,
          409,
          "the new POOL_URL must answer GET /v1/federation/ping directly (no redirect)",
        )
      newUrl = url
    }
    await peers.upsertPeer(sql, {
      atom_id: caller.atomId,
      pubkey: caller.pubkey,
      url: newUrl,
      pool_name: poolName,
      via,
    })
    log.info(`bond accepted from ${poolName ?? "?"} (${caller.atomId}) at ${newUrl}`)
    this.onBonded()
    return {
      atom_id: identity.atomId,
      pubkey: identity.pubkey,
      pool_name: config.poolName,
      url: this.ctx.url,
      sig: identity.sign(helloProof(caller.atomId, identity.atomId, body.nonce_ts)),
    }
  }

  private async bondTick() {
    const left: typeof this.pending = []
    const self = peers.hostPort(this.ctx.url)
    // The same list is usually given to every pool: skip our own entry.
    this.pending = this.pending.filter((e) => peers.hostPort(e.url) !== self)
    for (const e of this.pending) {
      try {
        await this.register(e.url, { reciprocate: true, expectAtom: e.atomId })
      } catch (err) {
        left.push(e)
        log.info(`bond at boot with ${e.url} not yet done: ${(err as Error).message}`)
      }
    }
    this.pending = left
    if (!left.length) {
      log.info("bond at boot: every CELLULE_BOND_PEERS entry is bonded")
      void this.loop.stop()
      return
    }
    throw new Error(`${left.length} peer(s) left to bond`)
  }
}

/**
 * What the caller of register sees: the peer's own refusal code when it gave one (attachment_token_required,
 * feature_not_licensed…) with our words, else that the pool could not be reached. Never the remote text.
 */
function genericBondError(base: string, e: unknown): CelluleError {
  const code = e instanceof CelluleError ? e.code : ""
  if (e instanceof CelluleError && e.status < 500 && /^[a-z][a-z0-9_]{2,59}(:[a-z0-9_=>]{1,80})?$/.test(code))
    return new CelluleError(code, `the pool at ${base} refused the bond (${code})`, e.status >= 400 ? e.status : 502)
  return new CelluleError(
    "peer_unreachable",
    `could not bond with the pool at ${base} (details in this pool's log)`,
    502,
    "check the peer's POOL_URL is routable from this pool (admin guide §4.5 P1) and its firewall",
  )
}
