// core/http/app — assembles the pool's Elysia app: one place mounts every route plugin, parses
// JSON with limits, and turns errors into {error, message}. Never talks SQL directly.
import { Elysia } from "elysia"
import { CelluleError } from "../errors.ts"
import { parseJsonBody } from "./body.ts"
import { acceptsForm, parseFormBody } from "./form.ts"
import { jsonError, toCelluleError } from "./errors.ts"
import { withSecurityHeaders } from "./headers.ts"
import type { PoolContext } from "./context.ts"
import { statusRoutes } from "./routes/status.ts"
import { licenseGate } from "./license-gate.ts"
import { DOCUMENT_UPLOAD_PATH } from "./routes/projects.ts"

export type RoutePlugin = (ctx: PoolContext) => Elysia<any, any, any, any, any, any, any>

export function buildApp(ctx: PoolContext, plugins: RoutePlugin[] = []) {
  const app = new Elysia()
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
      // Document uploads are multipart up to CELLULE_RAG_MAX_DOCUMENT_BYTES: their route reads the body.
      if (request.method === "POST" && DOCUMENT_UPLOAD_PATH.test(new URL(request.url).pathname)) return {}
      // Dashboard and wizard forms (login, logout, logo upload) post HTML forms, size-limited too.
      if (acceptsForm(request)) return parseFormBody(request)
      return parseJsonBody(request, ctx.config.maxJsonBodyBytes)
    })
    .onError({ as: "global" }, ({ code, error, request }) => {
      const id = (request.headers.get("x-request-id") ?? "").slice(0, 64) || `e${Date.now().toString(36)}`
      return withSecurityHeaders(jsonError(toCelluleError(code, error, id)))
    })
  // The licence gate is a global hook: it must be mounted before any route to cover them all.
  if (ctx.license) app.use(licenseGate(ctx))
  app.use(statusRoutes(ctx))
  for (const plugin of plugins) app.use(plugin(ctx))
  return app
}

export async function handle(app: ReturnType<typeof buildApp>, req: Request): Promise<Response> {
  try {
    return withSecurityHeaders(await app.handle(req))
  } catch (e) {
    const err = e instanceof CelluleError ? e : toCelluleError("UNKNOWN", e, "h")
    return withSecurityHeaders(jsonError(err))
  }
}
