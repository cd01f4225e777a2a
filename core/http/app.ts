// core/http/app — assembles the pool's Elysia app from ONE ordered mount table: parses JSON with
// limits, turns errors into {error, message}, and mounts every hook and route plugin in the order
// below. Every route plugin has one shape, (s: PoolServices) => Elysia, and lives in one file per
// resource under routes/ (dashboard pages under routes/pages/). Never talks SQL directly.
import { Elysia } from "elysia"
import { CelluleError } from "../errors.ts"
import type { PoolServices } from "../pool/services.ts"
import { recordApiRequest } from "./audit-trail.ts"
import { parseJsonBody } from "./body.ts"
import { clientIp } from "./client-ip.ts"
import { pathOf } from "./request-path.ts"
import { acceptsForm, parseFormBody } from "./form.ts"
import { jsonError, toCelluleError } from "./errors.ts"
import { SCOPE_FORBIDDEN } from "./admin-scope.ts"
import { htmlResponse } from "./dashboard-shell.ts"
import { langOf } from "./session.ts"
import { scopeForbiddenPage } from "../../views/layout.ts"
import { withSecurityHeaders } from "./headers.ts"
import { refuseForeignOrigin } from "./origin.ts"
import { licenseGate } from "./license-gate.ts"
import { bondingPeerGuard, trustedPeerGuard } from "./peer-guard.ts"
import { setupGateHook } from "./setup-gate.ts"
import { assetRoutes } from "./routes/assets.ts"
import { apiDocsRoutes } from "./routes/api-docs.ts"
import { rememberRoutes } from "./openapi.ts"
import { auditRoutes } from "./routes/audit.ts"
import { authRoutes } from "./routes/auth.ts"
import { chatRoutes } from "./routes/chat.ts"
import { clusterRoutes } from "./routes/cluster.ts"
import { completionRoutes } from "./routes/completions.ts"
import { embeddingsRoutes } from "./routes/embeddings.ts"
import { federationAdminRoutes } from "./routes/federation-admin.ts"
import { federationIdentityRoutes } from "./routes/federation-identity.ts"
import { federationP2pRoutes, peerUsageRoutes } from "./routes/federation-p2p.ts"
import { installRoutes } from "./routes/install.ts"
import { keyRoutes } from "./routes/keys.ts"
import { loginLinkPeerRoutes } from "./routes/login-links-p2p.ts"
import { licenseRoutes } from "./routes/license.ts"
import { adminRoutes } from "./routes/admins.ts"
import { metricsRoutes } from "./routes/metrics.ts"
import { modelFileRoutes } from "./routes/model-files.ts"
import { MODEL_UPLOAD_PATH, modelCatalogueRoutes } from "./routes/model-catalogue.ts"
import { modelProbeRoutes } from "./routes/model-probe.ts"
import { modelsRoutes } from "./routes/models.ts"
import { provisioningRoutes } from "./routes/provisioning.ts"
import { setupRoutes } from "./routes/setup.ts"
import { statusRoutes } from "./routes/status.ts"
import { usageRoutes } from "./routes/usage.ts"
import { vipRoutes } from "./routes/vip.ts"
import { workerRoutes } from "./routes/workers.ts"
import { migrationOrderRoutes } from "./routes/migration-orders.ts"
import { auditPage } from "./routes/pages/audit.ts"
import { documentationPage } from "./routes/pages/documentation.ts"
import { balancingPage } from "./routes/pages/balancing.ts"
import { federationPage } from "./routes/pages/federation.ts"
import { licensePage } from "./routes/pages/license.ts"
import { overviewPage } from "./routes/pages/overview.ts"
import { placeholderPage } from "./routes/pages/placeholder.ts"
import { projectsPage } from "./routes/pages/projects.ts"
import { settingsPage } from "./routes/pages/settings.ts"
import { modelsPage } from "./routes/pages/models.ts"
import { topologyPage } from "./routes/pages/topology.ts"
import { workersPage } from "./routes/pages/workers.ts"
import { DOCUMENT_UPLOAD_PATH, projectRoutes } from "./routes/projects.ts"

export type RoutePlugin = (s: PoolServices) => Elysia<any, any, any, any, any, any, any>

/** One row of the mount table: a plugin, mounted only when the services it needs are there. */
export interface Mount {
  plugin: RoutePlugin
  when?: (s: PoolServices) => boolean
}

const withKeys = (s: PoolServices) => !!(s.apiKeys && s.anonymous)
const withFederation = (s: PoolServices) => !!s.federation

/**
 * The mount table, in order. Order matters twice:
 *  - global hooks first: an onRequest/onBeforeHandle hook only covers what is mounted after it. The
 *    signed-call guards verify signatures before anything else reads the request; the wizard gate
 *    closes everything but /setup, /assets and /v1/status until setup is completed; the licence gate
 *    refuses mutations when the licence lapsed. (CSRF is checked by adminGuard and the dashboard shell
 *    with the session, on every mutating admin route.)
 *  - the dashboard's "/:page" placeholder last: a parametric route mounted earlier would shadow the
 *    static pages (/workers, /balancing…) that Elysia matches first only when they exist at match time.
 */
export const MOUNT_TABLE: readonly Mount[] = [
  // Global hooks.
  { plugin: (s) => trustedPeerGuard(s).plugin, when: (s) => withKeys(s) || withFederation(s) },
  { plugin: (s) => bondingPeerGuard(s).plugin, when: withFederation },
  { plugin: setupGateHook, when: (s) => !!s.setupGate },
  { plugin: licenseGate, when: (s) => s.licenseGate },
  // Health check and static files.
  { plugin: statusRoutes },
  { plugin: assetRoutes },
  // The API reference: /openapi.json and /docs (public, like the API it describes).
  { plugin: apiDocsRoutes },
  // The OpenAI-compatible API (and its forwarded twins).
  { plugin: modelsRoutes, when: withKeys },
  { plugin: chatRoutes, when: withKeys },
  { plugin: completionRoutes, when: withKeys },
  { plugin: embeddingsRoutes, when: withKeys },
  // Administration API.
  { plugin: keyRoutes, when: withKeys },
  { plugin: usageRoutes, when: (s) => withKeys(s) && !!s.keyUsage },
  { plugin: projectRoutes, when: (s) => withKeys(s) && !!s.rag },
  { plugin: workerRoutes },
  { plugin: migrationOrderRoutes, when: (s) => !!s.migrations },
  { plugin: provisioningRoutes },
  { plugin: installRoutes },
  { plugin: modelFileRoutes },
  { plugin: modelCatalogueRoutes },
  { plugin: modelProbeRoutes, when: (s) => !!s.modelProbe },
  { plugin: licenseRoutes },
  { plugin: adminRoutes },
  { plugin: auditRoutes },
  { plugin: metricsRoutes },
  // Federation: public identity, signed pool-to-pool calls, admin API, replicated admin resources.
  { plugin: federationIdentityRoutes, when: withFederation },
  { plugin: peerUsageRoutes, when: withKeys },
  { plugin: federationP2pRoutes, when: withFederation },
  { plugin: loginLinkPeerRoutes, when: withFederation },
  { plugin: federationAdminRoutes, when: withFederation },
  { plugin: clusterRoutes, when: withFederation },
  { plugin: vipRoutes, when: (s) => !!s.vip },
  // The browser: wizard, sign-in, dashboard pages.
  { plugin: setupRoutes },
  { plugin: authRoutes },
  { plugin: overviewPage },
  { plugin: licensePage },
  { plugin: workersPage },
  { plugin: balancingPage, when: (s) => withKeys(s) && !!s.keyUsage },
  { plugin: federationPage, when: withFederation },
  { plugin: topologyPage, when: withFederation },
  { plugin: auditPage },
  { plugin: projectsPage },
  { plugin: documentationPage },
  { plugin: settingsPage, when: (s) => !!s.settings },
  { plugin: modelsPage },
  // Last: "/:page" must not shadow a real page.
  { plugin: placeholderPage },
]

/**
 * The app for `s`: every row of `table` whose services are present, in order. In-process tests pass
 * a smaller table (or extra plugins appended after the pool's own).
 */
export function buildApp(s: PoolServices, table: readonly (Mount | RoutePlugin)[] = MOUNT_TABLE) {
  const app = new Elysia()
    // Before the setup gate and any route: a cross-site mutation is refused whatever it targets.
    .onRequest(({ request }) => {
      refuseForeignOrigin(request, pathOf(request), s.config.poolUrl)
    })
    .onParse({ as: "global" }, async ({ request }) => {
      // Every body-carrying API route takes JSON; routes that accept files declare their own parser.
      if (request.method === "GET" || request.method === "HEAD") return
      // A bodiless DELETE or POST (`curl -X DELETE …`) has nothing to parse; a body needs its Content-Type.
      if (
        !request.headers.get("content-type") &&
        !request.headers.get("transfer-encoding") &&
        Number(request.headers.get("content-length") ?? 0) === 0
      )
        return
      // The one bypass: document uploads are multipart up to CELLULE_RAG_MAX_DOCUMENT_BYTES (far above the
      // JSON limit), so the upload route reads and limits its own body (core/http/routes/projects.ts).
      if (request.method === "POST" && DOCUMENT_UPLOAD_PATH.test(pathOf(request))) return {}
      // The second: a GGUF upload is the raw body, streamed to the store (core/http/routes/model-catalogue.ts).
      if (request.method === "POST" && MODEL_UPLOAD_PATH.test(pathOf(request))) return {}
      // Dashboard and wizard forms (login, logout, logo upload) post HTML forms, size-limited too.
      if (acceptsForm(request)) return parseFormBody(request)
      return parseJsonBody(request, s.config.maxJsonBodyBytes)
    })
    .onError({ as: "global" }, ({ code, error, request }) => {
      const id = (request.headers.get("x-request-id") ?? "").slice(0, 64) || `e${Date.now().toString(36)}`
      const e = toCelluleError(code, error, id)
      // A scoped admin on a dashboard page reads why in its language, not a JSON body.
      if (e.code === SCOPE_FORBIDDEN && !pathOf(request).startsWith("/v1/"))
        return withSecurityHeaders(htmlResponse(scopeForbiddenPage(langOf(request)), 403))
      return withSecurityHeaders(jsonError(e))
    })
  for (const row of table) {
    const m = typeof row === "function" ? { plugin: row } : row
    if (!m.when || m.when(s)) app.use(m.plugin(s))
  }
  servicesOf.set(app, s)
  rememberRoutes(s, () => app.routes)
  return app
}

/** The services an app was built with, for what `handle` does around every request (the iso27001 trail). */
const servicesOf = new WeakMap<object, PoolServices>()

/** The mount table's hooks and health check, then `routes`: for in-process tests of a few routes. */
export const withHooks = (...routes: RoutePlugin[]): (Mount | RoutePlugin)[] => [...MOUNT_TABLE.slice(0, 5), ...routes]

export async function handle(app: ReturnType<typeof buildApp>, req: Request): Promise<Response> {
  const s = servicesOf.get(app)
  const t0 = performance.now()
  // read now: the peer address is gone once the exchange ends
  const ip = s ? clientIp(req, app.server, s.config) : undefined
  let res: Response
  try {
    res = withSecurityHeaders(await app.handle(req))
  } catch (e) {
    const err = e instanceof CelluleError ? e : toCelluleError("UNKNOWN", e, "h")
    res = withSecurityHeaders(jsonError(err))
  }
  if (s) recordApiRequest(s, req, ip, res.status, performance.now() - t0)
  return res
}
