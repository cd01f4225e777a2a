// core/http/openapi — the OpenAPI 3.1 document of the pool's HTTP API, generated from the routes the
// app actually mounted (buildApp records them here) joined with the one table of what each operation
// is (openapi-operations.ts). A mounted route the table does not know is listed as undocumented, and
// a test fails on it: adding a route means adding its line. Dashboard pages and their HTML forms are
// left out (they are the browser's, not the API's). Never talks SQL directly.
import type { PoolServices } from "../pool/services.ts"
import { VERSION } from "../version.ts"
import { OPERATIONS, type Operation, TAGS } from "./openapi-operations.ts"

/** What the generator needs of an Elysia route (app.routes). */
export interface RouteLike {
  method: string
  path: string
  hooks?: { body?: unknown; query?: unknown; params?: unknown; response?: unknown }
}

const mounted = new WeakMap<PoolServices, () => readonly RouteLike[]>()

/** Called by buildApp once every plugin is mounted: the routes /openapi.json describes. */
export function rememberRoutes(s: PoolServices, routes: () => readonly RouteLike[]) {
  mounted.set(s, routes)
}

export const mountedRoutes = (s: PoolServices): readonly RouteLike[] => mounted.get(s)?.() ?? []

/**
 * The API is every /v1 route plus the few others OPERATIONS lists (probes, metrics, this reference);
 * the rest is the browser's: dashboard pages, their form posts, sign-in, the wizard, static assets.
 */
export const isBrowserRoute = (method: string, path: string) =>
  !path.startsWith("/v1/") && !(`${method} ${path}` in OPERATIONS)

/** Elysia's "/v1/keys/:id" and "/x/*" as OpenAPI paths "/v1/keys/{id}" and "/x/{path}". */
export const openApiPath = (path: string) => path.replace(/:([A-Za-z0-9_]+)/g, "{$1}").replace(/\/\*$/, "/{path}")

const pathParams = (path: string) =>
  [...openApiPath(path).matchAll(/\{([A-Za-z0-9_]+)\}/g)].map((m) => ({
    name: m[1],
    in: "path",
    required: true,
    schema: { type: "string" },
  }))

/** A TypeBox schema as plain JSON Schema (drops TypeBox's symbol keys and non-JSON values). */
const jsonSchema = (schema: unknown): Record<string, unknown> | undefined => {
  if (!schema || typeof schema !== "object") return undefined
  try {
    return JSON.parse(JSON.stringify(schema))
  } catch {
    return undefined
  }
}

export interface OpenApiDocument {
  openapi: "3.1.0"
  info: { title: string; version: string; description: string }
  servers: { url: string }[]
  tags: { name: string; description: string }[]
  paths: Record<string, Record<string, Record<string, unknown>>>
  components: Record<string, unknown>
}

const ERROR_SCHEMA = {
  type: "object",
  required: ["error", "message"],
  properties: {
    error: { type: "string", description: "stable snake_case code" },
    message: { type: "string" },
  },
}

/** The API's routes among `routes`, each with its table entry (undefined: not documented yet). */
export function apiRoutes(routes: readonly RouteLike[]): { route: RouteLike; op?: Operation }[] {
  const seen = new Set<string>()
  const out: { route: RouteLike; op?: Operation }[] = []
  for (const r of routes) {
    const method = r.method.toUpperCase()
    if (method === "HEAD" || method === "OPTIONS" || method === "ALL") continue
    if (isBrowserRoute(method, r.path)) continue
    const key = `${method} ${r.path}`
    if (seen.has(key)) continue
    seen.add(key)
    out.push({ route: r, op: OPERATIONS[key] })
  }
  return out
}

export function openApiDocument(routes: readonly RouteLike[], serverUrl: string): OpenApiDocument {
  const paths: OpenApiDocument["paths"] = {}
  for (const { route, op } of apiRoutes(routes)) {
    const method = route.method.toLowerCase()
    const p = openApiPath(route.path)
    const operation: Record<string, unknown> = {
      operationId: `${method}${p.replace(/[{}]/g, "").replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string) => (c ? c.toUpperCase() : ""))}`,
      tags: [op?.tag ?? "undocumented"],
      summary: op?.summary ?? "(not documented yet)",
      ...(op?.description ? { description: op.description } : {}),
      security: securityOf(op?.auth ?? "admin"),
      parameters: pathParams(route.path),
      responses: responsesOf(route, op),
    }
    if (!op) operation["x-cellule-undocumented"] = true
    const body = jsonSchema(route.hooks?.body) ?? op?.body
    if (body || op?.bodyType) {
      operation.requestBody = {
        required: true,
        content: { [op?.bodyType ?? "application/json"]: { schema: body ?? { type: "object" } } },
      }
    }
    const query = jsonSchema(route.hooks?.query) as { properties?: Record<string, unknown>; required?: string[] }
    if (query?.properties)
      for (const [name, schema] of Object.entries(query.properties))
        (operation.parameters as unknown[]).push({
          name,
          in: "query",
          required: query.required?.includes(name) ?? false,
          schema,
        })
    paths[p] ??= {}
    paths[p][method] = operation
  }
  const used = new Set(Object.values(paths).flatMap((ops) => Object.values(ops).flatMap((o) => o.tags as string[])))
  return {
    openapi: "3.1.0",
    info: {
      title: "Cellule pool API",
      version: VERSION,
      description:
        "The OpenAI-compatible API, the administration API and the pool-to-pool API of a Cellule pool. " +
        "Errors are JSON {error, message} with a stable code. Generated from the routes this pool mounts.",
    },
    servers: [{ url: serverUrl }],
    tags: Object.entries(TAGS)
      .filter(([name]) => used.has(name))
      .map(([name, description]): { name: string; description: string } => ({ name, description }))
      .concat(used.has("undocumented") ? [{ name: "undocumented", description: "Routes with no entry yet." }] : []),
    paths,
    components: {
      securitySchemes: {
        apiKey: { type: "http", scheme: "bearer", description: "An API key, `Authorization: Bearer sk-cel-…`." },
        adminSession: {
          type: "apiKey",
          in: "cookie",
          name: "cellule_session",
          description: "A dashboard session (mutations also need the X-CSRF-Token header).",
        },
        peerSignature: {
          type: "apiKey",
          in: "header",
          name: "x-cellule-signature",
          description: "A pool-to-pool call signed with the calling pool's Ed25519 key (docs/federation.md).",
        },
        workerToken: { type: "http", scheme: "bearer", description: "A worker's provisioning token." },
      },
      schemas: { Error: ERROR_SCHEMA },
    },
  }
}

function securityOf(auth: Operation["auth"]): Record<string, string[]>[] {
  switch (auth) {
    case "public":
      return []
    case "key":
      return [{ apiKey: [] }, {}]
    case "admin":
      return [{ adminSession: [] }]
    case "peer":
      return [{ peerSignature: [] }]
    case "worker":
      return [{ workerToken: [] }]
  }
}

function responsesOf(route: RouteLike, op?: Operation): Record<string, unknown> {
  const okSchema = jsonSchema(route.hooks?.response) ?? op?.response
  const okType = op?.responseType ?? "application/json"
  const out: Record<string, unknown> = {
    [String(op?.status ?? 200)]: {
      description: op?.responseDescription ?? "Success",
      ...(op?.status === 204 ? {} : { content: { [okType]: { schema: okSchema ?? {} } } }),
    },
  }
  const errorBody = { content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } } }
  for (const [code, why] of op?.errors ?? []) out[String(code)] = { description: why, ...errorBody }
  if (op?.auth === "admin" && !out["401"]) out["401"] = { description: "not signed in", ...errorBody }
  return out
}
