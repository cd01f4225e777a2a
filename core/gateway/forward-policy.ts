// core/gateway/forward-policy — whether a request this pool cannot serve goes to a bonded peer: only
// when federation is active (a Forwarder exists), the request did not itself come from a peer (one
// hop), and the failure means "not here" rather than "not possible". core/scheduler/forward.ts picks
// the peer and sends the signed call.
import { CelluleError } from "../errors.ts"
import type { Forwarder, ForwardKind } from "../scheduler/forward.ts"
import type { Who } from "./admission.ts"

/** Errors that mean "not here" rather than "not possible": a bonded peer may still serve it. */
export const FORWARDABLE = new Set(["no_worker_available", "queue_full", "model_not_found"])

/** Run locally; if this pool cannot, and the request did not come from a peer, try one peer. */
export async function runOrForward<T>(
  forwarder: Forwarder | undefined,
  kind: ForwardKind,
  body: object,
  signal: AbortSignal,
  who: Who,
  forwarded: boolean,
  local: () => Promise<T>,
): Promise<T | Response> {
  try {
    return await local()
  } catch (e) {
    if (forwarded || !forwarder || !(e instanceof CelluleError) || !FORWARDABLE.has(e.code)) throw e
    // The key travels inside the signed body, so the serving pool meters usage against it.
    const res = await forwarder.forward(kind, { ...body, cellule_key_id: who.key?.id }, signal)
    if (res) return res
    throw e
  }
}
