// core/catalog/catalogue — the administrator's model catalogue (admin guide §4.9, issue 18): a GGUF
// uploaded as a stream lands in the store folder through a temporary file (SHA-256 computed on the
// way, header parsed and checked before anything is kept), then is renamed into place in the same
// transaction that records it. A refused upload leaves the store folder and the database as they were.
// Also: list with parsed headers and assignments, delete (refused while assigned), assignment per tier.
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from "node:fs"
import { join } from "node:path"
import { randomUUID } from "node:crypto"
import type { Sql } from "../db/client.ts"
import { BadRequest, CelluleError, Conflict, NotFound } from "../errors.ts"
import { logger } from "../log.ts"
import { type GgufHeader, GgufInvalid, hasGgufMagic, readGgufHeader } from "./gguf.ts"
import { checkFileName, listStore, storedModel } from "./store.ts"
import type { CopyState } from "./sync.ts"

const log = logger("catalog")

export const TIERS = ["fast", "reasoning", "code"] as const
export type Tier = (typeof TIERS)[number]

export interface CatalogueEntry {
  file_name: string
  size: number
  sha256: string
  header: GgufHeader | null
  /** Why the header could not be read (a file copied into the store by hand), else absent. */
  header_error?: string
  uploaded_by: string | null
  assignments: { hardware_classes: string[]; tiers: string[] }
  /** Whether this pool's store holds the file (a satellite lists the master's entries before its copy arrived). */
  present?: boolean
  /** A satellite's copy from the master in progress or failed (core/catalog/sync.ts). */
  copy?: CopyState
}

export class ModelTooLarge extends CelluleError {
  constructor(limit: number) {
    super(
      "model_too_large",
      `the model is larger than the ${limit}-byte upload limit (CELLULE_MODEL_UPLOAD_MAX_BYTES)`,
      413,
    )
  }
}

export class ModelAssigned extends Conflict {
  constructor(
    message: string,
    readonly assignments: CatalogueEntry["assignments"],
  ) {
    super(message, "model_assigned")
  }
  override extra() {
    return { assignments: this.assignments }
  }
}

/** Temporary upload files: hidden, so the store listing and workers never see them. */
export const uploadTempName = () => `.upload-${randomUUID()}.part`

function writeAll(fd: number, bytes: Uint8Array) {
  let done = 0
  while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done)
}

/**
 * Streams `body` into the store as `fileName`. Returns the new entry (created) or, when a file with
 * the same SHA-256 is already catalogued, that entry (created: false) and keeps nothing.
 */
export async function uploadModel(
  sql: Sql,
  storeDir: string,
  fileName: string,
  body: AsyncIterable<Uint8Array> | null,
  opts: { maxBytes: number; by?: string },
): Promise<{ entry: CatalogueEntry; created: boolean }> {
  checkFileName(fileName)
  mkdirSync(storeDir, { recursive: true })
  const tmp = join(storeDir, uploadTempName())
  const fd = openSync(tmp, "wx", 0o644)
  let open = true
  const t0 = performance.now()
  try {
    const hasher = new Bun.CryptoHasher("sha256")
    let size = 0
    let head = new Uint8Array(0)
    for await (const chunk of body ?? []) {
      if (size < 4) {
        // Wrong magic: refuse at the first bytes instead of storing gigabytes of something else.
        head = Buffer.concat([head, chunk.subarray(0, 4)])
        if (head.length >= 4 && !hasGgufMagic(head))
          throw new GgufInvalid(
            `${fileName} is not a GGUF file (it starts with ${JSON.stringify(Buffer.from(head.subarray(0, 4)).toString("latin1"))}, not "GGUF")`,
          )
      }
      size += chunk.byteLength
      if (size > opts.maxBytes) throw new ModelTooLarge(opts.maxBytes)
      writeAll(fd, chunk)
      hasher.update(chunk)
    }
    if (size === 0) throw new GgufInvalid(`${fileName} is empty (0 bytes): nothing was uploaded`)
    fsyncSync(fd)
    closeSync(fd)
    open = false
    const header = readGgufHeader(tmp, fileName)
    const sha256 = hasher.digest("hex")

    const [same] = await sql`select file_name from model_files where sha256 = ${sha256} order by file_name limit 1`
    if (same && existsSync(join(storeDir, same.file_name))) {
      log.info(`upload ${fileName}: same content as ${same.file_name} (sha256 ${sha256.slice(0, 12)}…); nothing kept`)
      return { entry: await catalogueEntry(sql, storeDir, same.file_name), created: false }
    }
    const final = join(storeDir, fileName)
    if (existsSync(final))
      throw new Conflict(
        `${fileName} is already in the catalogue with other content; delete it first or upload under another name`,
        "model_file_exists",
      )
    const st = statSync(tmp)
    await sql.begin(async (tx) => {
      await tx`insert into model_files (file_name, size_bytes, mtime_ms, sha256, header, uploaded_by)
               values (${fileName}, ${size}, ${Math.floor(st.mtimeMs)}, ${sha256}, ${tx.json(header as never)}, ${opts.by ?? null})
               on conflict (file_name) do update set size_bytes = excluded.size_bytes, mtime_ms = excluded.mtime_ms,
                 sha256 = excluded.sha256, header = excluded.header, uploaded_by = excluded.uploaded_by, recorded_at = now()`
      // Last: if the rename fails, the row is rolled back; if it succeeds, only the commit remains.
      renameSync(tmp, final)
    })
    log.info(
      `uploaded ${fileName}: ${size} bytes, sha256 ${sha256.slice(0, 12)}…, ${header.architecture} ${header.quantization}, ` +
        `${header.behaviour}, in ${Math.round(performance.now() - t0)} ms`,
    )
    return { entry: await catalogueEntry(sql, storeDir, fileName), created: true }
  } finally {
    if (open) closeSync(fd)
    if (existsSync(tmp)) unlinkSync(tmp)
  }
}

/** Which classes and tiers name each file. */
async function assignmentsByFile(sql: Sql): Promise<Map<string, CatalogueEntry["assignments"]>> {
  const out = new Map<string, CatalogueEntry["assignments"]>()
  const get = (f: string) => {
    const a = out.get(f) ?? { hardware_classes: [], tiers: [] }
    out.set(f, a)
    return a
  }
  for (const r of await sql`select hardware_class, file_name from hardware_class_models order by hardware_class`)
    get(r.file_name).hardware_classes.push(r.hardware_class)
  for (const r of await sql`select tier, file_name from tier_models order by tier`) get(r.file_name).tiers.push(r.tier)
  return out
}

/** The header recorded for a file, parsed (and recorded) on first sight for files copied in by hand. */
async function headerOf(
  sql: Sql,
  fileName: string,
  path: string,
): Promise<{ header: GgufHeader | null; header_error?: string; uploaded_by: string | null }> {
  const [row] = await sql`select header, uploaded_by from model_files where file_name = ${fileName}`
  if (row?.header) return { header: row.header as GgufHeader, uploaded_by: row.uploaded_by }
  try {
    const header = readGgufHeader(path, fileName)
    await sql`update model_files set header = ${sql.json(header as never)} where file_name = ${fileName}`
    return { header, uploaded_by: row?.uploaded_by ?? null }
  } catch (e) {
    return { header: null, header_error: (e as Error).message, uploaded_by: row?.uploaded_by ?? null }
  }
}

export async function catalogueEntry(sql: Sql, storeDir: string, fileName: string): Promise<CatalogueEntry> {
  const m = await storedModel(sql, storeDir, fileName)
  const h = await headerOf(sql, m.file_name, m.path)
  const a = (await assignmentsByFile(sql)).get(m.file_name) ?? { hardware_classes: [], tiers: [] }
  return { file_name: m.file_name, size: m.size, sha256: m.sha256, ...h, assignments: a }
}

/**
 * Every catalogue entry: the files of this pool's store, and on a satellite the master's entries
 * (replicated) whose copy has not arrived yet — listed with present: false and the copy's progress.
 */
export async function listCatalogue(
  sql: Sql,
  storeDir: string,
  copies?: ReadonlyMap<string, CopyState>,
): Promise<CatalogueEntry[]> {
  const assigned = await assignmentsByFile(sql)
  const replicated = new Map(
    (await sql`select file_name, size_bytes, sha256, header, uploaded_by, deleted from catalogue_entries`).map((r) => [
      r.file_name as string,
      r,
    ]),
  )
  const out: CatalogueEntry[] = []
  for (const m of await listStore(sql, storeDir)) {
    // A file the master deleted, still here until no local assignment names it: not listed.
    if (replicated.get(m.file_name)?.deleted) continue
    const h = await headerOf(sql, m.file_name, m.path)
    const r = replicated.get(m.file_name)
    const copying = r && r.sha256 !== m.sha256 ? copies?.get(m.file_name) : undefined
    out.push({
      file_name: m.file_name,
      size: m.size,
      sha256: m.sha256,
      ...h,
      assignments: assigned.get(m.file_name) ?? { hardware_classes: [], tiers: [] },
      present: true,
      ...(copying ? { copy: copying } : {}),
    })
  }
  const held = new Set(out.map((e) => e.file_name))
  for (const [name, r] of replicated) {
    if (r.deleted || held.has(name)) continue
    out.push({
      file_name: name,
      size: Number(r.size_bytes),
      sha256: r.sha256,
      header: (r.header as GgufHeader | null) ?? null,
      uploaded_by: r.uploaded_by,
      assignments: assigned.get(name) ?? { hardware_classes: [], tiers: [] },
      present: false,
      copy: copies?.get(name) ?? { state: "copying", done: 0, total: Number(r.size_bytes) },
    })
  }
  return out.sort((a, b) => a.file_name.localeCompare(b.file_name))
}

/** The payload of kind model_entry for a catalogue entry. */
export const entryPayload = (e: Pick<CatalogueEntry, "file_name" | "size" | "sha256" | "header" | "uploaded_by">) => ({
  file_name: e.file_name,
  size: e.size,
  sha256: e.sha256,
  header: (e.header as unknown as Record<string, unknown> | null) ?? null,
  uploaded_by: e.uploaded_by,
  deleted: false,
})

/** The replicated entry of a file (kind model_entry), or null. */
export async function replicatedEntry(
  sql: Sql,
  fileName: string,
): Promise<(CatalogueEntry & { deleted: boolean }) | null> {
  const [r] =
    await sql`select file_name, size_bytes, sha256, header, uploaded_by, deleted from catalogue_entries where file_name = ${fileName}`
  if (!r) return null
  return {
    file_name: r.file_name,
    size: Number(r.size_bytes),
    sha256: r.sha256,
    header: r.header ?? null,
    uploaded_by: r.uploaded_by,
    assignments: { hardware_classes: [], tiers: [] },
    deleted: r.deleted,
  }
}

/** Deletes a model file and its entry; 409 model_assigned while a class or tier still names it. */
export async function deleteModel(sql: Sql, storeDir: string, fileName: string): Promise<void> {
  checkFileName(fileName)
  const a = (await assignmentsByFile(sql)).get(fileName)
  if (a && (a.hardware_classes.length || a.tiers.length)) {
    const what = [...a.hardware_classes.map((c) => `hardware class ${c}`), ...a.tiers.map((t) => `tier ${t}`)].join(
      ", ",
    )
    throw new ModelAssigned(`${fileName} is assigned to ${what}; assign another model there first`, a)
  }
  const path = join(storeDir, fileName)
  const [row] = await sql`select 1 from model_files where file_name = ${fileName}`
  if (!row && !existsSync(path))
    throw new NotFound(`no model file ${fileName} in the catalogue`, "model_file_not_found")
  await sql.begin(async (tx) => {
    await tx`delete from model_files where file_name = ${fileName}`
    if (existsSync(path)) unlinkSync(path)
  })
  log.info(`deleted ${fileName}`)
}

export async function assignTierModel(sql: Sql, storeDir: string, tier: string, fileName: string) {
  if (!TIERS.includes(tier as Tier))
    throw new BadRequest(`unknown tier ${tier} (fast, reasoning or code)`, "tier_invalid")
  await storedModel(sql, storeDir, fileName)
  await sql`insert into tier_models (tier, file_name) values (${tier}, ${fileName})
            on conflict (tier) do update set file_name = excluded.file_name, updated_at = now()`
}

export async function tierAssignments(sql: Sql): Promise<Record<string, string>> {
  const rows = await sql`select tier, file_name from tier_models`
  return Object.fromEntries(rows.map((r) => [r.tier, r.file_name]))
}
