// core/catalog/sync — a catalogue satellite keeps its store in step with the master (admin guide
// §4.6.3, issue 18): every replicated entry (kind model_entry) whose file this pool lacks, or holds with
// other content, is copied from the master over a signed pool-to-pool download (copy.ts: Range resume,
// SHA-256 checked before the rename); a deleted entry's file is removed once no local assignment names
// it. Workers of the satellite then download from the satellite, on their own LAN. Logs: cellule.catalogue.
import { existsSync, statSync, unlinkSync } from "node:fs"
import { join } from "node:path"
import type { Clock } from "../clock.ts"
import type { Sql } from "../db/client.ts"
import { logger } from "../log.ts"
import { Loop } from "../federation/loop.ts"
import { signedHeaders } from "../federation/transport.ts"
import type { Identity } from "../federation/identity.ts"
import { copyModelFile } from "./copy.ts"
import type { CatalogueRole } from "./master.ts"
import { storedModel } from "./store.ts"

const log = logger("catalogue")

/** The signed pool-to-pool path a satellite downloads a model file from (core/http/routes/federation-p2p.ts). */
export const MODEL_FILE_P2P_PATH = "/v1/federation/p2p/model-files/"

export interface CopyState {
  state: "copying" | "failed" | "done"
  done: number
  total: number
  error?: string
}

export class CatalogueSync {
  readonly loop: Loop
  /** Per file name: the last copy's state, shown in the catalogue listing. */
  readonly copies = new Map<string, CopyState>()
  private abort = new AbortController()

  constructor(
    private o: {
      sql: Sql
      storeDir: string
      role: CatalogueRole
      identity: Identity
      clock: Clock
      intervalMs: number
      timeoutMs: number
    },
  ) {
    this.loop = new Loop("catalogue sync", o.intervalMs, () => this.tick(), log)
  }

  start() {
    this.loop.start({ immediate: true })
  }

  async stop() {
    this.abort.abort()
    await this.loop.stop()
  }

  kick() {
    this.loop.kick()
  }

  /** One pass: remove what the master deleted, copy what is missing. Throws when a copy failed (the loop backs off). */
  async tick(): Promise<void> {
    const v = await this.o.role.view()
    if (v.role === "master" || !v.master) return
    const { sql, storeDir } = this.o
    const entries = await sql`select file_name, size_bytes, sha256, header, uploaded_by, deleted
                              from catalogue_entries order by file_name`
    const failures: string[] = []
    for (const e of entries) {
      const path = join(storeDir, e.file_name)
      if (e.deleted) {
        if (existsSync(path)) await this.removeLocal(e.file_name, path)
        continue
      }
      if (existsSync(path)) {
        const held = await storedModel(sql, storeDir, e.file_name).catch(() => null)
        if (held?.sha256 === e.sha256) {
          if (this.copies.get(e.file_name)?.state !== "done") this.copies.delete(e.file_name)
          continue
        }
      }
      try {
        await this.copy(v.master.url, e as never)
      } catch (err) {
        const msg = (err as Error).message
        this.copies.set(e.file_name, {
          ...(this.copies.get(e.file_name) ?? { done: 0, total: Number(e.size_bytes) }),
          state: "failed",
          error: msg,
        })
        log.warn(msg)
        failures.push(e.file_name)
      }
    }
    if (failures.length) throw new Error(`catalogue copies to retry: ${failures.join(", ")}`)
  }

  private async copy(
    masterUrl: string,
    e: { file_name: string; size_bytes: string | number; sha256: string; header: unknown; uploaded_by: string | null },
  ) {
    const { sql, storeDir, identity, clock } = this.o
    const size = Number(e.size_bytes)
    const path = MODEL_FILE_P2P_PATH + e.file_name
    const t0 = performance.now()
    this.copies.set(e.file_name, { state: "copying", done: 0, total: size })
    log.info(`copying ${e.file_name} (${size} bytes) from the catalogue master ${masterUrl}`)
    const r = await copyModelFile({
      url: masterUrl.replace(/\/+$/, "") + path,
      headers: () => signedHeaders(identity, "GET", path, new Uint8Array(), clock.now()),
      dest: join(storeDir, e.file_name),
      size,
      sha256: e.sha256,
      signal: AbortSignal.any([this.abort.signal, AbortSignal.timeout(this.o.timeoutMs)]),
      onProgress: (done, total) => {
        this.copies.set(e.file_name, { state: "copying", done, total })
        log.info(
          `copying ${e.file_name}: ${done} / ${total} bytes (${Math.floor((done / Math.max(total, 1)) * 100)} %)`,
        )
      },
    })
    const st = statSync(join(storeDir, e.file_name))
    // Recorded with the hash just checked: the file is not hashed again when a worker asks for it.
    await sql`insert into model_files (file_name, size_bytes, mtime_ms, sha256, header, uploaded_by)
              values (${e.file_name}, ${st.size}, ${Math.floor(st.mtimeMs)}, ${e.sha256}, ${e.header ? sql.json(e.header as never) : null}, ${e.uploaded_by})
              on conflict (file_name) do update set size_bytes = excluded.size_bytes, mtime_ms = excluded.mtime_ms,
                sha256 = excluded.sha256, header = excluded.header, uploaded_by = excluded.uploaded_by, recorded_at = now()`
    this.copies.set(e.file_name, { state: "done", done: size, total: size })
    log.info(
      `copied ${e.file_name} from the catalogue master: ${size} bytes, sha256 ${e.sha256.slice(0, 12)}… verified, ` +
        `in ${Math.round(performance.now() - t0)} ms${r.resumed_from ? ` (resumed at byte ${r.resumed_from})` : ""}`,
    )
  }

  private async removeLocal(fileName: string, path: string) {
    const { sql } = this.o
    const [used] = await sql`select 1 from hardware_class_models where file_name = ${fileName}
                             union all select 1 from tier_models where file_name = ${fileName} limit 1`
    if (used) return
    await sql.begin(async (tx) => {
      await tx`delete from model_files where file_name = ${fileName}`
      unlinkSync(path)
    })
    this.copies.delete(fileName)
    log.info(`removed ${fileName}: the catalogue master deleted it`)
  }
}
