// Administrators' federation API: bond with a pool (register), attachment tokens, peers (list, promote,
// revoke, unbond), and what the federation is doing (status, topology, rejects, the envelope log).
import { Elysia, t } from "elysia"
import type { PoolServices } from "../../pool/services.ts"
import { adminActor, audited } from "../audit-trail.ts"
import { listLimit } from "../../federation/admin-queries.ts"
import { adminGuard } from "../guards.ts"

export const federationAdminRoutes = (s: PoolServices) => {
  const fed = s.federation!
  return new Elysia()
    .use(adminGuard(s))
    .post(
      "/v1/federation/admin/register",
      ({ body, admin, request, server }) =>
        audited(
          s,
          { actor: adminActor(admin), request, server },
          { action: "bond.create", target: `url:${body.url}` },
          () => fed.register(body.url, { token: body.token, reciprocate: body.reciprocate ?? true }),
        ),
      {
        body: t.Object({
          url: t.String({ minLength: 3, maxLength: 500 }),
          token: t.Optional(t.String({ maxLength: 200 })),
          reciprocate: t.Optional(t.Boolean()),
        }),
      },
    )
    .post("/v1/federation/admin/attachment-tokens", ({ admin, request, server }) =>
      audited(
        s,
        { actor: adminActor(admin), request, server },
        { action: "bond.create", details: { attachment_token: true } },
        () => s.peers.createAttachmentToken(),
      ),
    )
    .get("/v1/federation/peers", async () => ({
      peers: (await s.peers.list()).map(({ pubkey, ...p }) => ({ ...p, pubkey })),
    }))
    .post(
      "/v1/federation/peers/:atom_id/promote",
      ({ params, body, admin, request, server }) =>
        audited(
          s,
          { actor: adminActor(admin), request, server },
          { action: "trust.grant", target: `peer:${params.atom_id}`, details: { level: body.target_level } },
          () => s.peers.promote(params.atom_id, body.target_level),
        ),
      {
        body: t.Object({ target_level: t.Integer({ minimum: 1, maximum: 3 }) }),
      },
    )
    .post("/v1/federation/peers/:atom_id/revoke", ({ params, admin, request, server }) =>
      audited(
        s,
        { actor: adminActor(admin), request, server },
        { action: "trust.revoke", target: `peer:${params.atom_id}` },
        () => s.peers.revoke(params.atom_id),
      ),
    )
    .delete("/v1/federation/peers/:atom_id", async ({ params, admin, request, server }) => {
      await audited(
        s,
        { actor: adminActor(admin), request, server },
        { action: "bond.revoke", target: `peer:${params.atom_id}` },
        () => s.peers.unbond(params.atom_id),
      )
      return { ok: true }
    })
    .get("/v1/federation/status", async () => ({
      mode: fed.mode,
      gossip_enabled: s.config.fedGossipEnabled,
      atom_id: fed.identity.atomId,
      url: fed.url,
      loops: fed.loopStates(),
      pipelines: fed.pipelineStates(),
      stats: fed.stats,
      high_water: await fed.advertisement(),
    }))
    .get("/v1/federation/topology", () => fed.topology())
    .get("/v1/federation/rejects", async ({ query }) => ({ rejects: await s.peers.rejects(listLimit(query.limit)) }))
    .get("/v1/federation/log", async ({ query }) => ({ log: await s.peers.envelopeLog(listLimit(query.limit)) }))
}
