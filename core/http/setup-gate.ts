// core/http/setup-gate — the wizard gate as a global hook (mounted first in app.ts's table): its
// onRequest runs before routing, for every route. The decision is core/setup/gate.ts's; a pending
// API call is answered by the one error mapper (503 cluster_setup_pending, Retry-After: 5).
import { Elysia } from "elysia"
import { CelluleError } from "../errors.ts"
import { SETUP_URL, type SetupGate } from "../setup/gate.ts"
import type { PoolServices } from "../pool/services.ts"
import { jsonError } from "./errors.ts"

/** null to let the request through, else the response to send (for the hook and its unit test). */
export async function setupGateResponse(gate: SetupGate, request: Request): Promise<Response | null> {
  try {
    if ((await gate.decide(request)) === "open") return null
    return new Response(null, { status: 307, headers: { location: SETUP_URL } })
  } catch (e) {
    if (e instanceof CelluleError) return jsonError(e)
    throw e
  }
}

export const setupGateHook = (s: PoolServices) => {
  const gate = s.setupGate
  const hook = new Elysia({ name: "cellule.setupGate" })
  if (!gate) return hook
  return hook.onRequest(async ({ request }) => {
    if ((await gate.decide(request)) === "redirect")
      return new Response(null, { status: 307, headers: { location: SETUP_URL } })
  })
}
