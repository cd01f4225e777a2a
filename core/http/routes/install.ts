// The worker installers, the binaries they fetch and the redemption of provisioning codes:
//   GET /v1/install/worker.sh | worker.ps1 | worker-uninstall.sh | worker-uninstall.ps1
//   GET /v1/install/bin/cellule-<os>-<arch>[.exe][.sha256]
//   GET /v1/install/release-key → the Ed25519 key that signs self-update offers
//   POST /v1/provisioning/redeem {code, name} → the worker's config.json (pool URL, its own token and
//     token id, pool_key); docs/workers.md "Enrolment from a script"
// Public on purpose: a machine being enrolled has nothing yet but its single-use code.
import { Elysia, t } from "elysia"
import { NotFound } from "../../errors.ts"
import { installScript, type InstallFile } from "../../workers/install.ts"
import { binaryFor } from "../../workers/binaries.ts"
import { releaseKeyFor } from "../../workers/release-key.ts"
import type { PoolServices } from "../../pool/services.ts"
import { publicOrigin } from "../public-origin.ts"
import { audited } from "../audit-trail.ts"

const FILES: InstallFile[] = ["worker.sh", "worker.ps1", "worker-uninstall.sh", "worker-uninstall.ps1"]

export const installRoutes = (s: PoolServices) =>
  new Elysia()
    .get("/v1/install/:file", ({ params, request }) => {
      const file = params.file as InstallFile
      if (!FILES.includes(file)) throw new NotFound(`no installer ${params.file}`, "installer_not_found")
      const body = installScript(file, publicOrigin(request, s.config.poolUrl))
      const type = file.endsWith(".sh") ? "text/x-shellscript" : "text/plain"
      return new Response(body, { headers: { "content-type": `${type}; charset=utf-8`, "cache-control": "no-store" } })
    })
    .get("/v1/install/release-key", () => ({
      algorithm: "ed25519",
      public_key: releaseKeyFor(s.config.dataDir).publicKey,
    }))
    .get("/v1/install/bin/:name", async ({ params }) => {
      const wantHash = params.name.endsWith(".sha256")
      const b = await binaryFor(s.config, wantHash ? params.name.slice(0, -7) : params.name)
      if (wantHash)
        return new Response(`${b.sha256}  ${b.name}\n`, { headers: { "content-type": "text/plain; charset=utf-8" } })
      return new Response(Bun.file(b.path), {
        headers: {
          "content-type": "application/octet-stream",
          "content-length": String(b.size),
          "x-cellule-sha256": b.sha256,
          "x-cellule-version": b.version,
        },
      })
    })
    .post(
      "/v1/provisioning/redeem",
      async ({ body, request, server }) => {
        const r = await audited(
          s,
          { actor: { kind: "system", id: "provisioning" }, request, server },
          { action: "worker.enrol", target: `worker:${body.name ?? "worker"}` },
          () => s.workers.redeemCode(body.code, body.name ?? "worker"),
        )
        // pool_key: the worker will only accept self-updates signed by this pool's release key.
        return {
          pool: publicOrigin(request, s.config.poolUrl),
          token: r.token,
          // What an administrator revokes it by (POST /v1/admin/workers/tokens/:id/revoke).
          token_id: r.tokenId,
          name: r.name,
          hardware: r.hardware,
          os: r.os,
          pool_key: releaseKeyFor(s.config.dataDir).publicKey,
        }
      },
      {
        body: t.Object({
          code: t.String({ minLength: 1, maxLength: 128 }),
          name: t.Optional(t.String({ maxLength: 128 })),
        }),
      },
    )
