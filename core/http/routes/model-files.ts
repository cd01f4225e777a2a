// What a worker fetches with its own token before joining:
//   GET /v1/worker/assignment?class=cpu-mid → the model assigned to its hardware class (file, size, sha256, url)
//   GET /v1/models/files/:name              → the GGUF, with HTTP Range (206) so downloads resume
import { Elysia, t } from "elysia"
import { CelluleError, Unauthorized } from "../../errors.ts"
import { tokenMatches, hashToken } from "../../crypto/token.ts"
import { HARDWARE_CLASSES, type StoredModel } from "../../catalog/store.ts"
import type { HardwareClass } from "../../workers/protocol.ts"
import type { PoolServices } from "../../pool/services.ts"

/** A worker's own token, or the shared join token. */
async function requireWorker(s: PoolServices, request: Request) {
  const auth = request.headers.get("authorization") ?? ""
  const presented = auth.startsWith("Bearer ") ? auth.slice(7).trim() : ""
  if (s.config.workerToken && tokenMatches(presented, hashToken(s.config.workerToken))) return
  if (presented && (await s.workers.tokenId(presented)) !== null) return
  throw new Unauthorized("a worker token is required", "worker_token_invalid")
}

/** Parse `bytes=a-b`, `bytes=a-`, `bytes=-n` for a file of `size`; null when absent, throws 416. */
export function parseRange(header: string | null, size: number): { start: number; end: number } | null {
  if (!header) return null
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim())
  if (!m || (m[1] === "" && m[2] === "")) return null
  let start: number
  let end: number
  if (m[1] === "") {
    start = Math.max(0, size - Number(m[2]))
    end = size - 1
  } else {
    start = Number(m[1])
    end = m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1)
  }
  if (start >= size || start > end) {
    throw Object.assign(
      new CelluleError("range_not_satisfiable", `range ${header} is outside the file (${size} bytes)`, 416),
      { size },
    )
  }
  return { start, end }
}

/** A stored model file as an HTTP answer: whole (200) or the asked range (206), 416 outside it. */
export function storedFileResponse(m: StoredModel, rangeHeader: string | null): Response {
  const common = {
    "accept-ranges": "bytes",
    "content-type": "application/octet-stream",
    "x-cellule-sha256": m.sha256,
  }
  let range: ReturnType<typeof parseRange>
  try {
    range = parseRange(rangeHeader, m.size)
  } catch (e) {
    return new Response(JSON.stringify({ error: "range_not_satisfiable", message: (e as Error).message }), {
      status: 416,
      headers: { ...common, "content-type": "application/json", "content-range": `bytes */${m.size}` },
    })
  }
  const file = Bun.file(m.path)
  if (!range) return new Response(file, { headers: { ...common, "content-length": String(m.size) } })
  return new Response(file.slice(range.start, range.end + 1), {
    status: 206,
    headers: {
      ...common,
      "content-length": String(range.end - range.start + 1),
      "content-range": `bytes ${range.start}-${range.end}/${m.size}`,
    },
  })
}

export const modelFileRoutes = (s: PoolServices) =>
  new Elysia()
    .get(
      "/v1/worker/assignment",
      async ({ query, request }) => {
        await requireWorker(s, request)
        const m = await s.catalog.modelForClass(query.class as HardwareClass)
        return {
          hardware_class: query.class,
          model: {
            id: m.file_name.replace(/\.gguf$/, ""),
            file_name: m.file_name,
            size: m.size,
            sha256: m.sha256,
            url: `/v1/models/files/${m.file_name}`,
          },
        }
      },
      { query: t.Object({ class: t.Union(HARDWARE_CLASSES.map((c) => t.Literal(c))) }) },
    )
    .get("/v1/models/files/:name", async ({ params, request }) => {
      await requireWorker(s, request)
      const m = await s.catalog.storedModel(params.name)
      return storedFileResponse(m, request.headers.get("range"))
    })
