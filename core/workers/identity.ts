// core/workers/identity — the worker's stable id, kept in <dataDir>/worker.json so a restarted
// worker is recognised as the same machine by its pool. The id belongs to the token it joined with
// (the pool refuses it from any other token), so a machine re-enrolled with a new token gets a new id.
import { createHash, randomUUID } from "node:crypto"
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs"
import { hostname } from "node:os"
import { join } from "node:path"

export interface WorkerIdentity {
  worker_id: string
  name: string
  created_at: string
  /** SHA-256 prefix of the token this id was used with (never the token). */
  token_fingerprint?: string
  /** The pool a migration order moved this worker to (issue 17), and the configured pool it replaced. */
  pool_url?: string
  pool_url_configured?: string
}

const fingerprint = (token: string) => createHash("sha256").update(token).digest("hex").slice(0, 16)

export function loadOrCreateIdentity(dataDir: string, token?: string): WorkerIdentity {
  const file = join(dataDir, "worker.json")
  const fp = token ? fingerprint(token) : undefined
  let name = hostname()
  if (existsSync(file)) {
    const id = JSON.parse(readFileSync(file, "utf8")) as WorkerIdentity
    name = id.name || name
    // An id from before fingerprints is kept and adopted by the current token.
    if (id.worker_id && (!fp || !id.token_fingerprint || id.token_fingerprint === fp)) {
      if (fp && !id.token_fingerprint) save(file, { ...id, token_fingerprint: fp })
      return id
    }
  }
  mkdirSync(dataDir, { recursive: true })
  const id: WorkerIdentity = {
    worker_id: randomUUID(),
    name,
    created_at: new Date().toISOString(),
    token_fingerprint: fp,
  }
  save(file, id)
  return id
}

function save(file: string, id: WorkerIdentity) {
  writeFileSync(`${file}.tmp`, JSON.stringify(id, null, 2), { mode: 0o600 })
  renameSync(`${file}.tmp`, file)
}

/**
 * Where the worker joins: the pool a migration order moved it to, as long as its configured pool is still
 * the one it was moved away from (an admin who points the worker elsewhere in its configuration wins).
 */
export function migratedPoolUrl(dataDir: string, configured: string): string | undefined {
  const file = join(dataDir, "worker.json")
  if (!existsSync(file)) return undefined
  const id = JSON.parse(readFileSync(file, "utf8")) as WorkerIdentity
  return id.pool_url && id.pool_url_configured === configured ? id.pool_url : undefined
}

/** Save the pool this worker now belongs to (undefined: back to the configured one). */
export function saveMigratedPool(dataDir: string, configured: string, poolUrl: string | undefined) {
  const file = join(dataDir, "worker.json")
  const id = JSON.parse(readFileSync(file, "utf8")) as WorkerIdentity
  if (poolUrl === undefined || poolUrl === configured) {
    delete id.pool_url
    delete id.pool_url_configured
  } else Object.assign(id, { pool_url: poolUrl, pool_url_configured: configured })
  save(file, id)
}
