// core/http/license-gate — the licence gate at the HTTP edge: one global hook refuses mutations
// (402) when the licence has lapsed, plus requireFeature/requireLimit for handlers. Never blocks a read.
import { Elysia } from "elysia"
import * as gate from "../license/gate.ts"
import { logger } from "../log.ts"
import type { PoolServices } from "../pool/services.ts"

const log = logger("license")

export interface GateExemption {
  /** Matched against the route pattern (e.g. `/v1/admin/license/upload`), trailing slash ignored. */
  readonly path: RegExp
  /** Only these methods; every mutating method when absent. */
  readonly methods?: readonly string[]
  readonly why: string
}

/**
 * Mutations that always pass the gate, whatever the licence says (docs/licensing.md keeps the same
 * list). Reads (GET, HEAD, OPTIONS) are never gated at all.
 */
export const LICENSE_GATE_EXEMPT: readonly GateExemption[] = [
  {
    path: /^\/v1\/(federation\/forward\/)?(chat\/completions|completions|embeddings)$/,
    why: "inference (also when a bonded peer forwards it) is a use of the service, not a change to it",
  },
  {
    path: /^(\/v1)?\/admin\/license(\/.*)?$/,
    why: "the licence routes themselves: an expired or revoked customer must be able to renew",
  },
  { path: /^\/setup(\/.*)?$/, why: "the first-boot wizard, including its licence screen" },
  { path: /(^|\/)(login|logout)$/, why: "signing in and out of the dashboard" },
  {
    path: /^\/v1\/federation\/login-links\/consume$/,
    why: "signing in with a one-time link another pool of the cluster received",
  },
  {
    path: /^\/v1\/cluster\/vip-self$/,
    methods: ["POST"],
    why: "`cellule vip` reporting the VRRP state on its own host: a report, not an administrator's change",
  },
  {
    path: /^\/v1\/federation\/p2p\//,
    why: "the signed protocol between bonded pools: refusing it would split replicated data",
  },
  {
    path: /\/revoke$/,
    why: "revoking access (worker tokens, peers): a lapsed licence must never stop an admin locking out a leak",
  },
  {
    path: /^\/v1\/admin\/keys\/[^/]+$|^\/v1\/federation\/peers\/[^/]+$/,
    methods: ["DELETE"],
    why: "deleting an API key or a peer is revoking access too",
  },
]

export function isExemptFromLicenseGate(routePath: string, method = "POST"): boolean {
  const p = routePath.length > 1 ? routePath.replace(/\/+$/, "") : routePath
  const m = method.toUpperCase()
  return LICENSE_GATE_EXEMPT.some((e) => e.path.test(p) && (!e.methods || e.methods.includes(m)))
}

/**
 * The global hook. buildApp mounts it before any route when the services ask for it
 * (`s.licenseGate`), so it covers every route plugin. It runs before the admin guard: a lapsed licence
 * answers 402 even to an unauthenticated mutation, which tells nothing the dashboard banner does not.
 */
export const licenseGate = (s: PoolServices) => {
  const store = s.license
  log.info("install_license_gate: installed - mutations gated (reads, inference and the licence routes always OK)")
  return new Elysia({ name: "cellule.licenseGate" }).onBeforeHandle(
    { as: "global" },
    async ({ request, route, path }) => {
      if (gate.isReadMethod(request.method)) return
      const where = route || path
      if (isExemptFromLicenseGate(where, request.method)) return
      const state = await store.state()
      try {
        gate.checkMutation(request.method, state)
      } catch (e) {
        log.error(
          `CRITICAL license ${state.status}: refused ${request.method} ${where} (402); renew the licence or set enforce=false`,
        )
        throw e
      }
      if (state.status === "grace" && state.enforce && state.license) {
        const graceEnd = new Date((state.license.exp + state.license.grace_days * 86_400) * 1000).toISOString()
        log.error(
          `license grace: ${request.method} ${where} allowed, but the licence of ${state.license.client_id} expired; mutations will be refused from ${graceEnd}`,
        )
      }
    },
  )
}

/**
 * In a handler: 403 feature_not_licensed when a licence is installed without `feature`, 402 when it
 * has lapsed; passes with no licence (evaluation mode) or with enforce=false.
 *   .post("/v1/projects/:pid/documents", async () => { await requireFeature(s, "rag_documents"); … })
 */
export async function requireFeature(s: PoolServices, feature: string): Promise<void> {
  gate.requireFeature(feature, await s.license.state())
}

/**
 * In a handler, with `current` counted now by the caller: 402 `limit_reached:<name>=<current>>=<max>`
 * when the licence's limit is reached. An undeclared limit, or no licence, is unlimited.
 *   await requireLimit(s, "max_pools", await countPools(tx))
 */
export async function requireLimit(s: PoolServices, name: string, current: number): Promise<void> {
  gate.requireLimit(name, current, await s.license.state())
}
