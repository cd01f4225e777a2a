// core/version — the product version, from package.json (embedded at build time). A build may
// override it with `--define CELLULE_BUILD_VERSION='"x.y.z"'` (release pipelines, upgrade tests).
import pkg from "../package.json" with { type: "json" }

declare const CELLULE_BUILD_VERSION: string | undefined

export const VERSION: string = typeof CELLULE_BUILD_VERSION === "string" ? CELLULE_BUILD_VERSION : pkg.version
