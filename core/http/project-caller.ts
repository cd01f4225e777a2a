// core/http/project-caller — who is calling the projects API: an API key (Authorization: Bearer,
// bound to one project or to none) or an administrator (session cookie with CSRF, or trusted header).
import { type ApiKeys, InvalidApiKey } from "../auth/api-keys.ts"
import { Unauthorized } from "../errors.ts"
import type { ProjectCaller } from "../rag/index.ts"
import { clientIp } from "./client-ip.ts"
import type { PoolServices } from "../pool/services.ts"
import { resolveAdmin } from "./guards.ts"

export async function projectCaller(
  s: PoolServices,
  keys: ApiKeys,
  request: Request,
  server: Parameters<typeof clientIp>[1],
): Promise<ProjectCaller> {
  const auth = request.headers.get("authorization") ?? ""
  if (auth.startsWith("Bearer ")) {
    const key = await keys.find(auth.slice(7).trim())
    if (!key) throw new InvalidApiKey()
    return { kind: "key", project: key.project }
  }
  if (await resolveAdmin(s, request, clientIp(request, server, s.config))) return { kind: "admin" }
  throw new Unauthorized("an API key or an administrator login is required", "api_key_required")
}
