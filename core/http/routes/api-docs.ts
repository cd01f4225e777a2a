// GET /openapi.json (the OpenAPI 3.1 document of the routes this pool mounts), GET /docs (the same,
// readable, rendered here: no script, no CDN), GET /redoc (→ /docs). Public, like the API they describe.
import { Elysia } from "elysia"
import type { PoolServices } from "../../pool/services.ts"
import { mountedRoutes, openApiDocument } from "../openapi.ts"
import { langOf } from "../session.ts"
import { htmlResponse } from "../dashboard-shell.ts"
import { apiReferencePage } from "../../../views/pages/api-docs.ts"

const originOf = (request: Request) => new URL(request.url).origin

export const apiDocsRoutes = (s: PoolServices) =>
  new Elysia()
    .get("/openapi.json", ({ request }) =>
      Response.json(openApiDocument(mountedRoutes(s), originOf(request)), {
        headers: { "cache-control": "no-store" },
      }),
    )
    .get("/docs", ({ request }) =>
      htmlResponse(apiReferencePage(langOf(request), openApiDocument(mountedRoutes(s), originOf(request)))),
    )
    .get("/redoc", () => new Response(null, { status: 308, headers: { location: "/docs" } }))
