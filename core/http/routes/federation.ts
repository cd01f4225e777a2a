// Federation HTTP: public identity/ping, signed pool-to-pool calls (verified from the raw bytes before
// any parsing), admin bond/trust/topology endpoints, and the replicated admin resources
// (cluster-wide settings, sites, projects) whose writes become signed envelopes.
import { randomBytes } from "node:crypto"
import { Elysia, t } from "elysia"
import type { PoolContext } from "../context.ts"
import { adminGuard } from "../guards.ts"
import { readLimited } from "../body.ts"
import { jsonError } from "../errors.ts"
import { withSecurityHeaders } from "../headers.ts"
import { CelluleError, NotFound } from "../../errors.ts"
import { peers, settingType, type Federation } from "../../federation/index.ts"
import { verifyRequest, type SignedCaller } from "../../federation/transport.ts"
import { dashboardPage, formAction, pageRequest, type PageRequest } from "./dashboard.ts"
import { federationBody, ft, type FederationPageData } from "../../../views/federation.ts"
import { topologyBody, topologyLive, topologyTitle } from "../../../views/topology.ts"
import { html } from "../../../views/html.ts"

const P2P = "/v1/federation/p2p/"

// jsonb is read as text and parsed here: drivers differ on whether it arrives parsed.
const parseValues = (rows: readonly Record<string, unknown>[]) =>
  rows.map((r) => ({ ...r, value: JSON.parse(String(r.value)) }))

export const federationRoutes = (fed: Federation) => (ctx: PoolContext) => {
  const verified = new WeakMap<Request, { caller: SignedCaller; body: any }>()

  const p2p = new Elysia()
    .onRequest(async ({ request }) => {
      if (!new URL(request.url).pathname.startsWith(P2P)) return
      try {
        const bytes =
          request.method === "GET"
            ? new Uint8Array()
            : await readLimited(request.clone(), ctx.config.maxJsonBodyBytes * 4)
        const caller = await verifyRequest(request, bytes, ctx.clock.now(), async (atom) => {
          const p = await peers.getPeer(ctx.db.sql, atom)
          return p && !p.revoked_at ? p.pubkey : undefined
        })
        let body: unknown = {}
        if (bytes.byteLength) {
          try {
            body = JSON.parse(new TextDecoder().decode(bytes))
          } catch {
            throw new CelluleError("invalid_json", "request body is not valid JSON", 400)
          }
        }
        verified.set(request, { caller, body })
      } catch (e) {
        const err = e instanceof CelluleError ? e : new CelluleError("request_invalid", (e as Error).message, 400)
        return withSecurityHeaders(jsonError(err))
      }
    })
    .post(`${P2P}hello`, async ({ request }) => {
      const v = verified.get(request)!
      if (!v.caller.pubkey) {
        // Already bonded: the caller signed with its known key; refresh its URL/name.
        const p = await peers.getPeer(ctx.db.sql, v.caller.atomId)
        return fed.acceptHello({ atomId: v.caller.atomId, pubkey: p!.pubkey }, v.body)
      }
      return fed.acceptHello({ atomId: v.caller.atomId, pubkey: v.caller.pubkey }, v.body)
    })
    .post(`${P2P}gossip`, async ({ request }) => {
      const v = verified.get(request)!
      if (v.caller.pubkey) throw new CelluleError("peer_unknown", "bond first (hello), then gossip", 401)
      if (!Array.isArray(v.body?.envelopes))
        throw new CelluleError("validation_failed", "envelopes must be an array", 400)
      return fed.receive(v.caller.atomId, v.body.envelopes)
    })
    .post(`${P2P}pull`, async ({ request }) => {
      const v = verified.get(request)!
      if (v.caller.pubkey) throw new CelluleError("peer_unknown", "bond first (hello), then pull", 401)
      const have = v.body?.have && typeof v.body.have === "object" ? v.body.have : {}
      return fed.pullFor(v.caller.atomId, have)
    })
    .get(`${P2P}hw`, async ({ request }) => {
      const v = verified.get(request)!
      if (v.caller.pubkey) throw new CelluleError("peer_unknown", "bond first", 401)
      return fed.highWaterFor(v.caller.atomId)
    })
    .get(`${P2P}links`, async ({ request }) => {
      const v = verified.get(request)!
      if (v.caller.pubkey) throw new CelluleError("peer_unknown", "bond first", 401)
      return { links: (await fed.links()).map((l) => ({ atom_id: l.atom_id, latency_ms: l.latency_ms, link: l.link })) }
    })

  const open = new Elysia()
    .get("/v1/federation/identity", () => ({
      atom_id: fed.identity.atomId,
      pubkey: fed.identity.pubkey,
      pool_name: ctx.config.poolName,
      url: fed.url,
      mode: fed.mode,
    }))
    .get("/v1/federation/ping", () => ({ atom_id: fed.identity.atomId, t: ctx.clock.now() }))
    // For `cellule proxy --discover`: this pool and its trusted peers, URLs and names only (docs/proxy.md).
    .get("/v1/federation/entry-pools", async () => ({ atom_id: fed.identity.atomId, pools: await fed.entryPools() }))

  const admin = new Elysia()
    .use(adminGuard(ctx))
    .post(
      "/v1/federation/admin/register",
      ({ body }) => fed.register(body.url, { token: body.token, reciprocate: body.reciprocate ?? true }),
      {
        body: t.Object({
          url: t.String({ minLength: 3, maxLength: 500 }),
          token: t.Optional(t.String({ maxLength: 200 })),
          reciprocate: t.Optional(t.Boolean()),
        }),
      },
    )
    .post("/v1/federation/admin/attachment-tokens", () => peers.createAttachmentToken(ctx.db.sql, ctx.clock))
    .get("/v1/federation/peers", async () => ({
      peers: (await peers.listPeers(ctx.db.sql)).map(({ pubkey, ...p }) => ({ ...p, pubkey })),
    }))
    .post(
      "/v1/federation/peers/:atom_id/promote",
      ({ params, body }) => peers.promotePeer(ctx.db.sql, params.atom_id, body.target_level),
      {
        body: t.Object({ target_level: t.Integer({ minimum: 1, maximum: 3 }) }),
      },
    )
    .post("/v1/federation/peers/:atom_id/revoke", ({ params }) =>
      peers.revokePeer(ctx.db.sql, params.atom_id, ctx.clock),
    )
    .delete("/v1/federation/peers/:atom_id", async ({ params }) => {
      await peers.unbondPeer(ctx.db.sql, params.atom_id)
      return { ok: true }
    })
    .get("/v1/federation/status", async () => ({
      mode: fed.mode,
      gossip_enabled: ctx.config.fedGossipEnabled,
      atom_id: fed.identity.atomId,
      url: fed.url,
      loops: fed.loopStates(),
      pipelines: fed.pipelineStates(),
      stats: fed.stats,
      high_water: await fed.advertisement(),
    }))
    .get("/v1/federation/topology", () => fed.topology())
    .get("/v1/federation/rejects", async ({ query }) => ({
      rejects: await ctx.db
        .sql`select id, at, from_peer, origin, seq::text as seq, kind, reason, detail from federation_rejects order by id desc limit ${Math.min(Number(query.limit ?? 100) || 100, 1000)}`,
    }))
    .get("/v1/federation/log", async ({ query }) => ({
      log: await ctx.db
        .sql`select origin, seq::float8 as seq, hlc, kind, payload::text as payload, sig, received_from, status, at from federation_log order by at desc, origin, seq desc limit ${Math.min(Number(query.limit ?? 100) || 100, 1000)}`,
    }))
    .get("/v1/admin/settings", async () => ({
      settings: parseValues(
        await ctx.db.sql`select key, value::text as value, hlc, origin, updated_at from cluster_settings order by key`,
      ),
    }))
    .get("/v1/admin/settings/:key", async ({ params }) => {
      if (!settingType(params.key))
        throw new CelluleError("setting_not_cluster_wide", `"${params.key}" is not a cluster-wide setting`, 404)
      const [row] = parseValues(
        await ctx.db
          .sql`select key, value::text as value, hlc, origin, updated_at from cluster_settings where key = ${params.key}`,
      )
      if (!row) throw new NotFound(`setting "${params.key}" has never been set`, "setting_not_set")
      return row
    })
    .put("/v1/admin/settings/:key", async ({ params, body }) => {
      const env = await fed.publish("setting", { key: params.key, value: (body as { value?: unknown })?.value })
      return {
        key: params.key,
        value: (env.payload as { value: unknown }).value,
        hlc: env.hlc,
        origin: env.origin,
        seq: env.seq,
      }
    })
    .get("/v1/admin/sites", async () => ({
      sites: await ctx.db.sql`select site_id, name, headcount, hlc, origin, updated_at from sites order by site_id`,
    }))
    .put("/v1/admin/sites/:site_id", async ({ params, body }) => {
      const b = (body ?? {}) as { name?: unknown; headcount?: unknown }
      const env = await fed.publish("site", { site_id: params.site_id, name: b.name, headcount: b.headcount })
      return { ...(env.payload as object), hlc: env.hlc, origin: env.origin }
    })
    .get("/v1/admin/projects", async () => ({
      projects: await ctx.db
        .sql`select id, name, description, origin, created_at from projects order by created_at, id`,
    }))
    .post("/v1/admin/projects", async ({ body, set }) => {
      const b = (body ?? {}) as { name?: unknown; description?: unknown }
      const id = `prj_${ctx.clock.now().toString(36)}${randomBytes(5).toString("hex")}`
      const env = await fed.publish("project", { id, name: b.name, description: b.description ?? "" })
      set.status = 201
      return { ...(env.payload as object), origin: env.origin }
    })

  // Dashboard pages (§0.2 Federation, §0.4 Topology), rendered inside the shell.
  type Srv = Parameters<typeof pageRequest>[2]
  const pageData = async (extra: Partial<FederationPageData> = {}): Promise<FederationPageData> => ({
    self: { atom_id: fed.identity.atomId, pool_name: ctx.config.poolName, url: fed.url, mode: fed.mode },
    minTrust: ctx.config.minTrustLevel,
    peers: await peers.listPeers(ctx.db.sql),
    ...extra,
  })
  const fedPage = (
    request: Request,
    server: Srv,
    extra: Partial<FederationPageData> = {},
    who?: PageRequest,
    status = 200,
  ) =>
    dashboardPage(ctx, request, server, {
      who,
      status,
      active: "federation",
      title: (l) => ft(l, "title"),
      body: async ({ lang, admin }) => federationBody(lang, await pageData(extra), admin.csrf),
    })
  /** A form action; `run`'s data (token, flash) is shown on the page. An unreachable peer is a red flash too. */
  const action = (
    request: Request,
    server: Srv,
    body: unknown,
    run: (form: Record<string, unknown>) => Promise<Partial<FederationPageData>>,
  ) =>
    formAction(ctx, request, server, body, {
      run: (form) => run(form),
      page: (who, o, status) => fedPage(request, server, o.flash ? { flash: o.flash } : o.result, who, status),
      shown: (e) => e.code === "peer_unreachable" || e.code === "federation_off",
    })
  const pages = new Elysia()
    .get("/federation", ({ request, server }) => fedPage(request, server))
    .post("/federation/token", ({ request, server, body }) =>
      action(request, server, body, async () => ({ token: await peers.createAttachmentToken(ctx.db.sql, ctx.clock) })),
    )
    .post("/federation/register", ({ request, server, body }) =>
      action(request, server, body, async (f) => {
        const p = await fed.register(String(f.url ?? ""), { token: f.token ? String(f.token) : undefined })
        return { flash: { ok: true, text: `${p.pool_name ?? p.atom_id} · trust ${p.trust_level}` } }
      }),
    )
    .post("/federation/promote", ({ request, server, body }) =>
      action(request, server, body, async (f) => {
        const p = await peers.promotePeer(ctx.db.sql, String(f.atom_id ?? ""), Number(f.target_level))
        return { flash: { ok: true, text: `${p.pool_name ?? p.atom_id} · trust ${p.trust_level}` } }
      }),
    )
    .get("/topology", ({ request, server }) =>
      dashboardPage(ctx, request, server, {
        active: "topology",
        title: topologyTitle,
        body: async ({ lang }) => topologyBody(lang, await fed.topology()),
      }),
    )
    .get("/topology/live", async ({ request, server }) => {
      const who = await pageRequest(ctx, request, server)
      if (!who) return new Response(null, { status: 401, headers: { "hx-redirect": "/login" } })
      return new Response(html`${topologyLive(who.lang, await fed.topology())}`.value, {
        headers: { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" },
      })
    })

  return new Elysia().use(open).use(p2p).use(pages).use(admin)
}
