// What a worker fetches with its own token before joining:
//   GET /v1/worker/assignment?class=cpu-mid → the model assigned to its hardware class (file, size, sha256, url)
//   GET /v1/models/files/:name              → the GGUF, with HTTP Range (206) so downloads resume
import { Elysia, t } from "elysia"
import { Unauthorized } from "../../errors.ts"
import { tokenMatches, hashToken } from "../../crypto/token.ts"
import { HARDWARE_CLASSES } from "../../catalog/store.ts"
import { storedFileResponse } from "../file-response.ts"
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
