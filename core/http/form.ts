// core/http/form — HTML form bodies (urlencoded and multipart) for the dashboard and wizard, read with
// a hard size limit like JSON bodies. Repeated fields become arrays; files stay File objects.
import { readLimited } from "./body.ts"
import { pathOf } from "./request-path.ts"
import { isFormRequest } from "./media-type.ts"

/** Multipart forms carry the wizard's logo (≤ 500 KB) plus fields. */
export const MAX_FORM_BYTES = 1024 * 1024

/**
 * Browser-facing paths that take HTML forms: the wizard, login/logout and the dashboard's pages
 * (views/layout NAV). Everything else (the /v1 API) stays JSON-only and answers 415 to a form.
 */
const FORM_PATHS =
  /^\/(setup|login|logout|auth|lang|license|admin|federation|workers|balancing|topology|models|settings|documentation|audit|overview|projects)(\/|$)/

export function acceptsForm(request: Request): boolean {
  if (!isFormRequest(request)) return false
  return FORM_PATHS.test(pathOf(request))
}

export async function parseFormBody(request: Request, limit = MAX_FORM_BYTES): Promise<Record<string, unknown>> {
  const bytes = await readLimited(request, limit)
  const form = await new Response(bytes as BodyInit, {
    headers: { "content-type": request.headers.get("content-type") ?? "" },
  }).formData()
  const out: Record<string, unknown> = {}
  for (const [k, v] of form.entries()) {
    if (k in out) out[k] = ([] as unknown[]).concat(out[k], v)
    else out[k] = v
  }
  return out
}
