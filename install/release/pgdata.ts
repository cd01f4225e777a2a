// install/release/pgdata — writes the pristine data directory (initdb's output, packed) that the
// compiled binary embeds and unpacks at a pool's first boot (core/db/_pristine.ts). Reused from
// .cache/ while the PGlite version is the same; the cluster is WASM Postgres, one file for every target.
//   bun install/release/pgdata.ts [out]   (default dist/pgdata.tar.zst)
import { mkdirSync } from "node:fs"
import { dirname } from "node:path"
import { pristineTarball } from "../../core/db/_pristine.ts"

const out = process.argv[2] ?? "dist/pgdata.tar.zst"
const tarball = await pristineTarball()
if (!tarball) throw new Error("no pristine data directory")
mkdirSync(dirname(out), { recursive: true })
await Bun.write(out, tarball)
console.error(`${out}: ${(tarball.length / 1e6).toFixed(1)} MB`)
