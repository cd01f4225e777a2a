// core/gateway/admission — who may call the OpenAI-compatible API, and who they are for fair queuing.
// A request is admitted with a valid API key (checked against its models and rpm/tpm/budget by
// core/auth/api-keys.ts), or without one when anonymous LAN access is on. A request forwarded by a
// trusted peer was admitted there; here it is identified by the key id it carries, or by the peer.
import type { Priority } from "../scheduler/fair-queue.ts"
import { InvalidApiKey, isKeyId, type ApiKey, type ApiKeys } from "../auth/api-keys.ts"
import type { AnonymousAccess } from "../auth/anonymous-access.ts"
import { Unauthorized } from "../errors.ts"

/**
 * The requester of a job. `client` is the fair-queuing identity (the API key, else the client address,
 * else the forwarding peer); `keyId` is the key the usage is metered against (for a forwarded request,
 * possibly one not replicated here yet).
 */
export type Who = {
  client: string
  priority: Priority
  /** Held to the per-client queue bound (CELLULE_CLIENT_QUEUE_MAX): true for one employee (a key or an address). */
  capped: boolean
  key?: ApiKey | null
  keyId?: string | null
  started: number
}

/**
 * Who is asking, for fair queuing: the API key presented (hashed, never stored), else the
 * client address. Priority from `X-Cellule-Priority: batch` (scripts), default the key's, else interactive.
 */
export function requester(request: Request, ip: string | undefined, key?: ApiKey | null): Omit<Who, "started"> {
  const client = key ? `key:${key.id}` : `ip:${ip ?? "unknown"}`
  const p = request.headers.get("x-cellule-priority")?.toLowerCase()
  return {
    client,
    priority: p === "batch" || p === "interactive" ? p : (key?.priority ?? "interactive"),
    capped: true,
  }
}

/**
 * Who may call: a valid API key (checked against its limits), or anyone when anonymous LAN access
 * is on — then an unknown key (tools that insist on sending one) is treated as anonymous too.
 */
export async function admit(
  keys: ApiKeys,
  anonymous: AnonymousAccess,
  request: Request,
  ip: string | undefined,
  model: string,
): Promise<Who> {
  const auth = request.headers.get("authorization") ?? ""
  const presented = auth.startsWith("Bearer ") ? auth.slice(7).trim() : ""
  const key = presented ? await keys.find(presented) : null
  if (!key && !(await anonymous.allowed())) {
    if (presented) throw new InvalidApiKey()
    throw new Unauthorized("an API key is required (Authorization: Bearer sk-cel-…)", "api_key_required")
  }
  if (key) await keys.admit(key, model)
  return { ...requester(request, ip, key), key, keyId: key?.id ?? null, started: performance.now() }
}

/** A request a trusted peer forwarded (its signature already checked): the key id in its body, else the peer. */
export async function forwardedRequester(
  keys: ApiKeys,
  request: Request,
  peerAtom: string,
  body: object,
): Promise<Who> {
  const keyId = (body as { cellule_key_id?: unknown }).cellule_key_id
  const p = request.headers.get("x-cellule-priority")?.toLowerCase()
  const id = isKeyId(keyId) ? keyId : null
  const key = id ? await keys.byId(id) : null
  // The peer admitted the key; a key created there a moment ago may not have reached this pool yet,
  // and its use is still metered against it (the usage row names the id; the name follows with it).
  return {
    client: id ? `key:${id}` : `peer:${peerAtom}`,
    priority: p === "batch" ? "batch" : (key?.priority ?? "interactive"),
    // A key is one employee wherever its jobs wait; a peer's anonymous forwards are many people,
    // each already held to the bound on the peer that admitted them.
    capped: id !== null,
    key,
    keyId: id,
    started: performance.now(),
  }
}
