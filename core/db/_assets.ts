// core/db/_assets — where PGlite's wasm, file-system bundle and the pgvector tarball are on disk. In dev,
// in node_modules; in the compiled binary, unpacked once from the embedded compressed pack (core/pack.ts)
// to `<cacheDir>/pglite-<id>/`, so the binary carries 4 MB instead of 15.7 MB.
import { join } from "node:path"
import { isCompiled } from "../compiled.ts"
import { unpack } from "../pack.ts"

export interface PgliteAssets {
  pgliteWasm: string
  initdbWasm: string
  pgliteData: string
  vectorBundle: string
}

export async function pgliteAssets(cacheDir: string): Promise<PgliteAssets> {
  // Plain strings, not imports: the bundler must not embed these files raw next to the pack.
  const dir = isCompiled
    ? await unpack(
        (await import("../../.build/packs/pglite.pack", { with: { type: "file" } })).default,
        cacheDir,
        "pglite",
      )
    : undefined
  const at = (dev: string, name: string) => (dir ? join(dir, name) : join(import.meta.dir, "../../node_modules", dev))
  return {
    pgliteWasm: at("@electric-sql/pglite/dist/pglite.wasm", "pglite.wasm"),
    initdbWasm: at("@electric-sql/pglite/dist/initdb.wasm", "initdb.wasm"),
    pgliteData: at("@electric-sql/pglite/dist/pglite.data", "pglite.data"),
    vectorBundle: at("@electric-sql/pglite-pgvector/dist/vector.tar.gz", "vector.tar.gz"),
  }
}
