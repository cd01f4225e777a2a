// Public federation reads: GET /v1/federation/identity (who this pool is, for bonding), /ping, and
// /entry-pools (this pool and its trusted peers, URLs and names only, for `cellule proxy --discover`).
import { Elysia } from "elysia"
import type { PoolServices } from "../../pool/services.ts"

export const federationIdentityRoutes = (s: PoolServices) => {
  const fed = s.federation!
  return new Elysia()
    .get("/v1/federation/identity", () => ({
      atom_id: fed.identity.atomId,
      pubkey: fed.identity.pubkey,
      pool_name: s.config.poolName,
      url: fed.url,
      mode: fed.mode,
    }))
    .get("/v1/federation/ping", () => ({ atom_id: fed.identity.atomId, t: s.clock.now() }))
    .get("/v1/federation/entry-pools", async () => ({ atom_id: fed.identity.atomId, pools: await fed.entryPools() }))
}
