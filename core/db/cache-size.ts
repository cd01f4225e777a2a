// core/db/cache-size — the embedded database's buffer cache (PostgreSQL's shared_buffers), fixed when
// it starts. PGlite keeps the whole cache resident in its WASM heap, so a pool without documents keeps
// the 16 MB floor (idle RSS, bench/memory). A pool holding documents searches an HNSW graph of ~2 KB per
// chunk (100 000 chunks: ~200 MB); every page of it that misses the cache is read through the WASM file
// layer, which made search 10-20x slower than from the cache (bench/ingest). So the cache follows the
// data: half of what the databases' files hold (the graph is about 40 % of it), within bounds.
import { readdirSync, statSync } from "node:fs"
import { totalmem } from "node:os"
import { join } from "node:path"

export const MIN_CACHE_MB = 16
/** Above this the cache is not raised further by "auto" (an explicit CELLULE_DB_CACHE_MB can). */
export const MAX_AUTO_CACHE_MB = 1024
const MB = 1024 * 1024

/** Bytes in the files under `dir` (0 when it does not exist yet: a first boot). */
export function filesBytes(dir: string): number {
  let total = 0
  let entries: import("node:fs").Dirent[]
  try {
    entries = readdirSync(dir, { withFileTypes: true })
  } catch {
    return 0
  }
  for (const e of entries) {
    const p = join(dir, e.name)
    if (e.isDirectory()) total += filesBytes(p)
    else if (e.isFile()) total += statSync(p, { throwIfNoEntry: false })?.size ?? 0
  }
  return total
}

/**
 * The cache for a data dir whose relations (pgdata/base) hold `dataBytes`: half of it, at least
 * MIN_CACHE_MB, at most MAX_AUTO_CACHE_MB and an eighth of the machine's memory.
 */
export function autoCacheMb(dataBytes: number, machineBytes = totalmem()): number {
  const cap = Math.max(MIN_CACHE_MB, Math.min(MAX_AUTO_CACHE_MB, Math.floor(machineBytes / 8 / MB)))
  return Math.min(cap, Math.max(MIN_CACHE_MB, Math.ceil(dataBytes / 2 / MB)))
}

/** The cache to start `pgdata` with: a number of MB as given, or "auto" from the data already there. */
export function cacheMbFor(pgdata: string, setting: number | "auto"): number {
  return setting === "auto" ? autoCacheMb(filesBytes(join(pgdata, "base"))) : Math.max(MIN_CACHE_MB, setting)
}
