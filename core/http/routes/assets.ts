// GET /assets/* — the dashboard's static files, embedded in the binary as text (htmx from
// node_modules, our stylesheet and client scripts). No CDN: the CSP allows only 'self'.
import { Elysia } from "elysia"
import htmx from "htmx.org/dist/htmx.min.js" with { type: "text" }
import css from "../../../views/assets/app.css" with { type: "text" }
import setupJs from "../../../views/assets/setup.js" with { type: "text" }
import dashboardJs from "../../../views/assets/dashboard.js" with { type: "text" }
import licenseJs from "../../../views/assets/license.js" with { type: "text" }
import projectsJs from "../../../views/assets/projects.js" with { type: "text" }
import documentationJs from "../../../views/assets/documentation.js" with { type: "text" }
import modelsJs from "../../../views/assets/models.js" with { type: "text" }
import type { PoolServices } from "../../pool/services.ts"

const JS = "text/javascript; charset=utf-8"
const FILES: Record<string, { body: string; type: string }> = {
  "htmx.min.js": { body: htmx, type: JS },
  "app.css": { body: css, type: "text/css; charset=utf-8" },
  "setup.js": { body: setupJs, type: JS },
  "dashboard.js": { body: dashboardJs, type: JS },
  "license.js": { body: licenseJs, type: JS },
  "projects.js": { body: projectsJs, type: JS },
  "documentation.js": { body: documentationJs, type: JS },
  "models.js": { body: modelsJs, type: JS },
}

export const ASSET_PREFIX = "/assets/"

export const assetRoutes = (_s: PoolServices) =>
  new Elysia().get("/assets/:file", ({ params }) => {
    const f = FILES[params.file]
    if (!f) return new Response("not found", { status: 404 })
    return new Response(f.body, { headers: { "content-type": f.type, "cache-control": "public, max-age=300" } })
  })
