// core/workers/identity — the worker's stable id, kept in <dataDir>/worker.json so a restarted
// worker is recognised as the same machine by its pool.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs"
import { hostname } from "node:os"
import { join } from "node:path"
import { randomUUID } from "node:crypto"

export interface WorkerIdentity {
  worker_id: string
  name: string
  created_at: string
}

export function loadOrCreateIdentity(dataDir: string): WorkerIdentity {
  const file = join(dataDir, "worker.json")
  if (existsSync(file)) {
    const id = JSON.parse(readFileSync(file, "utf8")) as WorkerIdentity
    if (id.worker_id) return id
  }
  mkdirSync(dataDir, { recursive: true })
  const id: WorkerIdentity = { worker_id: randomUUID(), name: hostname(), created_at: new Date().toISOString() }
  writeFileSync(`${file}.tmp`, JSON.stringify(id, null, 2), { mode: 0o600 })
  renameSync(`${file}.tmp`, file)
  return id
}
