// core/federation/bonding — making bonds: `register` (this pool asks a peer, an admin action or
// CELLULE_BOND_PEERS at boot), `acceptHello` (the peer side), and the bond-at-boot loop.
import { CelluleError, Forbidden, ServiceUnavailable } from "../errors.ts"
import { logger } from "../log.ts"
import type { FedContext } from "./_context.ts"
import { atomIdOf, verifySig } from "./identity.ts"
import { Loop } from "./loop.ts"
import * as peers from "./peers.ts"
import { assertRoutable } from "./pool-url.ts"
import { signedFetch } from "./transport.ts"

const log = logger("federation")

/** What a bonded-to pool signs to prove it holds its key: the caller's atom, its own, the caller's timestamp. */
export function helloProof(callerAtom: string, selfAtom: string, ts: number): Uint8Array {
  return Buffer.from(`cellule.fed.hello.v1\n${callerAtom}\n${selfAtom}\n${ts}`)
}

function requireFederation(ctx: FedContext) {
  if (ctx.config.fedMode === "off")
    throw new ServiceUnavailable("federation_off", "federation is off on this pool (CELLULE_FED=off)")
}

export class Bonding {
  /** Bond-at-boot: retries every CELLULE_BOND_PEERS entry until each is bonded. */
  readonly loop: Loop
  private pending: string[]

  /** `onBonded` runs after each new or refreshed bond (the facade kicks the latency probe). */
  constructor(
    private ctx: FedContext,
    private onBonded: () => void,
  ) {
    this.loop = new Loop("bond at boot", 1000, () => this.bondTick(), log, 30_000)
    this.pending = ctx.config.bondPeers.map(peers.normaliseUrl)
  }

  get hasPending() {
    return this.pending.length > 0
  }

  /** Bond with the pool at `url` (admin action). With reciprocate, the peer records us in the same call. */
  async register(url: string, opts: { token?: string; reciprocate?: boolean } = {}): Promise<peers.Peer> {
    const { sql, identity, config, clock } = this.ctx
    requireFederation(this.ctx)
    assertRoutable(this.ctx.url, config.fedAllowLoopbackUrl)
    const base = peers.normaliseUrl(url)
    let info: { atom_id: string; pubkey: string; pool_name: string | null }
    if (opts.reciprocate !== false) {
      const ts = clock.now()
      const res = await signedFetch<{ atom_id: string; pubkey: string; pool_name: string; sig: string; ts: number }>(
        identity,
        base,
        "/v1/federation/p2p/hello",
        {
          body: { url: this.ctx.url, pool_name: config.poolName, token: opts.token, nonce_ts: ts },
          now: ts,
          withPubkey: true,
        },
      )
      if (
        typeof res.pubkey !== "string" ||
        atomIdOf(res.pubkey) !== res.atom_id ||
        !verifySig(res.pubkey, helloProof(identity.atomId, res.atom_id, ts), res.sig)
      )
        throw new CelluleError(
          "peer_proof_invalid",
          `the pool at ${base} did not prove it holds the key of ${res.atom_id}`,
          502,
        )
      info = res
    } else {
      const res = await fetch(`${base}/v1/federation/identity`, { signal: AbortSignal.timeout(10_000) })
        .then((r) => r.json() as Promise<any>)
        .catch((e) => {
          throw new CelluleError("peer_unreachable", `cannot reach peer at ${base}: ${(e as Error).message}`, 502)
        })
      if (typeof res?.pubkey !== "string" || atomIdOf(res.pubkey) !== res.atom_id)
        throw new CelluleError("peer_bad_response", `bad identity from ${base}`, 502)
      info = res
    }
    if (info.atom_id === identity.atomId) throw new CelluleError("bond_self", "a pool cannot bond with itself", 400)
    const peer = await peers.upsertPeer(sql, {
      atom_id: info.atom_id,
      pubkey: info.pubkey,
      url: base,
      pool_name: info.pool_name ?? null,
    })
    log.info(`bonded with ${info.pool_name ?? "?"} (${info.atom_id}) at ${base}, trust ${peer.trust_level}`)
    this.onBonded()
    return peer
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
    const listed = config.bondPeers.some((e) => peers.hostPort(e) === peers.hostPort(url))
    if (!existing && !listed) {
      if (
        typeof body.token !== "string" ||
        !(await peers.consumeAttachmentToken(sql, body.token, caller.atomId, clock))
      )
        throw new Forbidden(
          "bonding needs a valid attachment token from this pool's dashboard (single use, 24 h)",
          "attachment_token_required",
        )
    }
    // A working path is never replaced by a claim (we may reach the peer through a tunnel or relay);
    // a path that does not work is (the peer fixed its POOL_URL, §4.5 P1).
    await peers.upsertPeer(sql, {
      atom_id: caller.atomId,
      pubkey: caller.pubkey,
      url: existing?.stable_since ? existing.url : url,
      pool_name: poolName,
    })
    log.info(`bond accepted from ${poolName ?? "?"} (${caller.atomId}) at ${url}`)
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
    const left: string[] = []
    const self = peers.hostPort(this.ctx.url)
    // The same list is usually given to every pool: skip our own entry.
    this.pending = this.pending.filter((u) => peers.hostPort(u) !== self)
    for (const url of this.pending) {
      try {
        await this.register(url, { reciprocate: true })
      } catch (e) {
        left.push(url)
        log.info(`bond at boot with ${url} not yet done: ${(e as Error).message}`)
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
