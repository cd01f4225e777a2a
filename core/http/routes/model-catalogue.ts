// The model catalogue's administration API (issue 18, admin guide §4.9):
//   POST   /v1/admin/models?file_name=NAME.gguf  → the raw body (the GGUF) streamed to the store; 201 new
//                                                 entry, 200 the existing entry for the same content,
//                                                 400 gguf_invalid / gguf_truncated / …, 409 model_file_exists
//   GET    /v1/admin/models                      → entries (size, sha256, parsed header, assignments)
//   DELETE /v1/admin/models/:file_name           → 409 model_assigned while a class or tier names it
//   PUT    /v1/admin/models/tiers/:tier {file_name} → the model of a tier (fast / reasoning / code)
//   POST   /v1/admin/models/promote-master       → this pool becomes the catalogue master (§4.6.3)
// On a satellite every catalogue write answers 409 catalogue_read_only with the master's URL.
// (PUT /v1/admin/models/classes/:class lives with provisioning.) Every write is audited.
import { Elysia, t } from "elysia"
import { adminGuard } from "../guards.ts"
import type { PoolServices } from "../../pool/services.ts"
import { adminActor, audited } from "../audit-trail.ts"
import { TIERS } from "../../catalog/catalogue.ts"
import { HARDWARE_CLASSES } from "../../catalog/store.ts"

/** The one path whose body is not parsed by the app (core/http/app.ts onParse). */
export const MODEL_UPLOAD_PATH = /^\/v1\/admin\/models\/?$/

export const modelCatalogueRoutes = (s: PoolServices) =>
  new Elysia()
    .use(adminGuard(s))
    .post(
      "/v1/admin/models",
      async ({ query, request, server, admin, set }) => {
        const fileName = query.file_name
        try {
          const r = await audited(
            s,
            { actor: adminActor(admin), request, server },
            { action: "model.upload", target: `model:${fileName}` },
            () => s.catalog.upload(fileName, request.body as AsyncIterable<Uint8Array> | null, admin.email),
            (r) => ({ details: { sha256: r.entry.sha256, size: r.entry.size, duplicate: !r.created } }),
          )
          set.status = r.created ? 201 : 200
          return { ...r.entry, duplicate: !r.created }
        } catch (e) {
          // Refused before the body was read to its end (wrong magic, too large): stop receiving it.
          await request.body?.cancel().catch(() => {})
          throw e
        }
      },
      { query: t.Object({ file_name: t.String({ minLength: 1, maxLength: 205 }) }) },
    )
    .get("/v1/admin/models", async () => ({
      data: await s.catalog.list(),
      hardware_classes: Object.fromEntries(
        Object.entries(await s.catalog.classAssignments()).filter(([c]) => HARDWARE_CLASSES.includes(c as never)),
      ),
      tiers: await s.catalog.tierAssignments(),
      catalogue: await s.catalog.role.view(),
    }))
    .post("/v1/admin/models/promote-master", async ({ request, server, admin }) => {
      // Signed: the record travels as an Ed25519-signed envelope (kind catalogue_master); audited here.
      const v = await audited(
        s,
        { actor: adminActor(admin), request, server },
        { action: "model.promote_master", target: "catalogue:master" },
        () => s.catalog.role.promote(admin.email),
        (v) => ({ details: { epoch: v.master?.epoch ?? 0 } }),
      )
      return v
    })
    .delete("/v1/admin/models/:file_name", async ({ params, request, server, admin }) => {
      await audited(
        s,
        { actor: adminActor(admin), request, server },
        { action: "model.delete", target: `model:${params.file_name}` },
        () => s.catalog.remove(params.file_name),
      )
      return { deleted: params.file_name }
    })
    .put(
      "/v1/admin/models/tiers/:tier",
      async ({ params, body, request, server, admin }) => {
        await audited(
          s,
          { actor: adminActor(admin), request, server },
          { action: "model.assign_tier", target: `model:${body.file_name}`, details: { tier: params.tier } },
          () => s.catalog.assignTier(params.tier, body.file_name),
        )
        return { tier: params.tier, file_name: body.file_name }
      },
      {
        params: t.Object({ tier: t.Union(TIERS.map((x) => t.Literal(x))) }),
        body: t.Object({ file_name: t.String({ minLength: 1, maxLength: 205 }) }),
      },
    )
