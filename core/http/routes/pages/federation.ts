// GET /federation — the Federation page (§0.2): this pool, bonded sites with trust, and its forms:
// POST /federation/token (a one-time attachment token), /federation/register (bond with a site),
// /federation/promote (raise a site's trust), /federation/revoke, /unbond and /rebond (with confirmation).
import type { AuditedAction } from "../../audit-trail.ts"
import { Elysia } from "elysia"
import type { PoolServices } from "../../../pool/services.ts"
import { dashboardPage, formAction, type PageRequest, type Srv } from "../../dashboard-shell.ts"
import { federationBody, type FederationPageData } from "../../../../views/federation.ts"
import { t } from "../../../../views/i18n.ts"

export const federationPage = (s: PoolServices) => {
  const fed = s.federation!
  const pageData = async (extra: Partial<FederationPageData> = {}): Promise<FederationPageData> => ({
    self: { atom_id: fed.identity.atomId, pool_name: s.config.poolName, url: fed.url, mode: fed.mode },
    minTrust: s.config.minTrustLevel,
    peers: await s.peers.list(),
    rejects: (await s.peers.rejects(50)) as unknown as FederationPageData["rejects"],
    ...extra,
  })
  const page = (
    request: Request,
    server: Srv,
    extra: Partial<FederationPageData> = {},
    who?: PageRequest,
    status = 200,
  ) =>
    dashboardPage(s, request, server, {
      who,
      status,
      active: "federation",
      title: (l) => t(l, "fed.title"),
      body: async ({ lang, admin }) => federationBody(lang, await pageData(extra), admin.csrf),
    })
  /** A form action; `run`'s data (token, flash) is shown on the page. An unreachable peer is a red flash too. */
  const action = (
    request: Request,
    server: Srv,
    body: unknown,
    what: (form: Record<string, unknown>) => AuditedAction,
    run: (form: Record<string, unknown>) => Promise<Partial<FederationPageData>>,
  ) =>
    formAction(s, request, server, body, {
      // recorded like the JSON API's twins (routes/federation-admin.ts)
      audit: what,
      run: (form) => run(form),
      page: (who, o, status) => page(request, server, o.flash ? { flash: o.flash } : o.result, who, status),
      shown: (e) => e.code === "peer_unreachable" || e.code === "federation_off",
    })
  return (
    new Elysia()
      .get("/federation", ({ request, server }) => page(request, server))
      .post("/federation/token", ({ request, server, body }) =>
        action(
          request,
          server,
          body,
          () => ({ action: "bond.create", details: { attachment_token: true } }),
          async () => ({ token: await s.peers.createAttachmentToken() }),
        ),
      )
      .post("/federation/register", ({ request, server, body }) =>
        action(
          request,
          server,
          body,
          (f) => ({ action: "bond.create", target: `url:${String(f.url ?? "")}` }),
          async (f) => {
            const p = await fed.register(String(f.url ?? ""), { token: f.token ? String(f.token) : undefined })
            return { flash: { ok: true, text: `${p.pool_name ?? p.atom_id} · trust ${p.trust_level}` } }
          },
        ),
      )
      .post("/federation/revoke", ({ request, server, body }) =>
        action(
          request,
          server,
          body,
          (f) => ({ action: "trust.revoke", target: `peer:${String(f.atom_id ?? "")}` }),
          async (f) => {
            await s.peers.revoke(String(f.atom_id ?? ""))
            return { flash: { ok: true, text: `revoked ${String(f.atom_id)}` } }
          },
        ),
      )
      .post("/federation/unbond", ({ request, server, body }) =>
        action(
          request,
          server,
          body,
          (f) => ({ action: "bond.revoke", target: `peer:${String(f.atom_id ?? "")}` }),
          async (f) => {
            await s.peers.unbond(String(f.atom_id ?? ""))
            return { flash: { ok: true, text: `unbonded ${String(f.atom_id)}` } }
          },
        ),
      )
      // Re-bond (§6.2 "bad signature": stale peer key): drop the old bond, register again with the site's URL.
      .post("/federation/rebond", ({ request, server, body }) =>
        action(
          request,
          server,
          body,
          (f) => ({ action: "bond.create", target: `url:${String(f.url ?? "")}`, details: { rebond: true } }),
          async (f) => {
            // Already unbonded (the Unbond button, or the bond lost): re-bonding is just a new bond.
            await s.peers.unbond(String(f.atom_id ?? "")).catch((e) => {
              if ((e as { code?: string }).code !== "peer_not_found") throw e
            })
            const p = await fed.register(String(f.url ?? ""), { token: f.token ? String(f.token) : undefined })
            return { flash: { ok: true, text: `${p.pool_name ?? p.atom_id} · trust ${p.trust_level}` } }
          },
        ),
      )
      .post("/federation/promote", ({ request, server, body }) =>
        action(
          request,
          server,
          body,
          (f) => ({
            action: "trust.grant",
            target: `peer:${String(f.atom_id ?? "")}`,
            details: { level: Number(f.target_level) },
          }),
          async (f) => {
            const p = await s.peers.promote(String(f.atom_id ?? ""), Number(f.target_level))
            return { flash: { ok: true, text: `${p.pool_name ?? p.atom_id} · trust ${p.trust_level}` } }
          },
        ),
      )
  )
}
