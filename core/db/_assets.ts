// core/db/_assets — PGlite's wasm, file-system bundle and the pgvector tarball, imported as file
// assets so `bun build --compile` embeds them. In dev these are real paths; compiled, /$bunfs paths.
import pgliteWasm from "../../node_modules/@electric-sql/pglite/dist/pglite.wasm" with { type: "file" }
import initdbWasm from "../../node_modules/@electric-sql/pglite/dist/initdb.wasm" with { type: "file" }
import pgliteData from "../../node_modules/@electric-sql/pglite/dist/pglite.data" with { type: "file" }
import vectorBundle from "../../node_modules/@electric-sql/pglite-pgvector/dist/vector.tar.gz" with { type: "file" }

export const PGLITE_ASSETS = { pgliteWasm, initdbWasm, pgliteData, vectorBundle } as Record<string, string>
