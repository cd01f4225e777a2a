// core/catalog/store — the pool's model store: GGUF files in one folder, each with its SHA-256
// recorded in model_files (recomputed when size or mtime change), and the model assigned to each
// hardware class. Never serves a file outside the store folder.
import { readdirSync, realpathSync, statSync } from "node:fs"
import { join, sep } from "node:path"
import { sha256File } from "../crypto/hash.ts"
import type { Sql } from "../db/client.ts"
import { NotFound, BadRequest } from "../errors.ts"
import { logger } from "../log.ts"
import type { HardwareClass } from "../workers/protocol.ts"

const log = logger("catalog")

export const HARDWARE_CLASSES: readonly HardwareClass[] = ["cpu-mid", "gpu-small", "gpu-large", "apple-m"]
const FILE_NAME = /^[A-Za-z0-9._-]{1,200}\.gguf$/

export interface StoredModel {
  file_name: string
  path: string
  size: number
  sha256: string
}

export function checkFileName(name: string) {
  if (!FILE_NAME.test(name) || name.startsWith("."))
    throw new BadRequest(
      `${name} is not a model file name (letters, digits, . _ - and .gguf)`,
      "model_file_name_invalid",
    )
}

/** One model of the store with its recorded hash; hashes it (once) when new or changed. */
export async function storedModel(sql: Sql, storeDir: string, fileName: string): Promise<StoredModel> {
  checkFileName(fileName)
  const path = join(storeDir, fileName)
  let st: ReturnType<typeof statSync>
  try {
    st = statSync(path)
    // A link may point elsewhere in the store, never out of it (to /etc/passwd, to the database).
    const store = realpathSync(storeDir)
    if (!realpathSync(path).startsWith(store + sep)) throw new Error("outside the store")
  } catch {
    throw new NotFound(`no model file ${fileName} in the pool's store`, "model_file_not_found")
  }
  if (!st.isFile()) throw new NotFound(`no model file ${fileName} in the pool's store`, "model_file_not_found")
  const mtime = Math.floor(st.mtimeMs)
  const [row] =
    await sql`select sha256 from model_files where file_name = ${fileName} and size_bytes = ${st.size} and mtime_ms = ${mtime}`
  if (row) return { file_name: fileName, path, size: st.size, sha256: row.sha256 }
  const t0 = performance.now()
  const sha256 = await sha256File(path)
  await sql`insert into model_files (file_name, size_bytes, mtime_ms, sha256) values (${fileName}, ${st.size}, ${mtime}, ${sha256})
            on conflict (file_name) do update set size_bytes = excluded.size_bytes, mtime_ms = excluded.mtime_ms,
              sha256 = excluded.sha256, recorded_at = now()`
  log.info(
    `recorded ${fileName} (${st.size} bytes, sha256 ${sha256.slice(0, 12)}…) in ${Math.round(performance.now() - t0)} ms`,
  )
  return { file_name: fileName, path, size: st.size, sha256 }
}

export function storeFileNames(storeDir: string): string[] {
  try {
    return readdirSync(storeDir)
      .filter((n) => FILE_NAME.test(n) && !n.startsWith("."))
      .sort()
  } catch {
    return []
  }
}

export async function listStore(sql: Sql, storeDir: string): Promise<StoredModel[]> {
  const out: StoredModel[] = []
  for (const name of storeFileNames(storeDir))
    try {
      out.push(await storedModel(sql, storeDir, name))
    } catch (e) {
      if (!(e instanceof NotFound)) throw e
      log.warn(`model store: ${name} is not a file inside the store (a link leading out of it?); not served`)
    }
  return out
}

export async function assignClassModel(sql: Sql, storeDir: string, hwClass: HardwareClass, fileName: string) {
  if (!HARDWARE_CLASSES.includes(hwClass))
    throw new BadRequest(`unknown hardware class ${hwClass}`, "hardware_class_invalid")
  await storedModel(sql, storeDir, fileName)
  await sql`insert into hardware_class_models (hardware_class, file_name) values (${hwClass}, ${fileName})
            on conflict (hardware_class) do update set file_name = excluded.file_name, updated_at = now()`
}

export async function classAssignments(sql: Sql): Promise<Record<string, string>> {
  const rows = await sql`select hardware_class, file_name from hardware_class_models`
  return Object.fromEntries(rows.map((r) => [r.hardware_class, r.file_name]))
}

/**
 * The model a worker of this class should serve: the admin's assignment, else the cpu-mid one,
 * else the store's only file (a one-model pool needs no configuration).
 */
export async function modelForClass(sql: Sql, storeDir: string, hwClass: HardwareClass): Promise<StoredModel> {
  const assigned = await classAssignments(sql)
  const name = assigned[hwClass] ?? assigned["cpu-mid"] ?? storeFileNames(storeDir)[0]
  if (!name)
    throw new NotFound(`no model is assigned to ${hwClass} and the pool's model store is empty`, "no_model_assigned")
  return storedModel(sql, storeDir, name)
}
