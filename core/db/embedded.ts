// core/db/embedded — the default database: PGlite with pgvector, persisted under the data dir and
// served by pglite-socket on a Unix socket, so the same postgres client code runs in both modes.
// Never a TCP port: pglite-socket accepts any user and password, so only the file system may say who
// connects. The socket lives in a 0700 directory and pgdata/ is 0700 with 0600 files: only this OS
// user (and root) can reach the database.
import { PGlite, type Extension } from "@electric-sql/pglite"
import { vector } from "@electric-sql/pglite-pgvector"
import { PGLiteSocketServer } from "@electric-sql/pglite-socket"
import { existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { pathToFileURL } from "node:url"
import { pgliteAssets } from "./_assets.ts"
import { cacheMbFor } from "./cache-size.ts"
import { lockDataDir, type DirLock } from "./lock.ts"
import { ownerOnly, privateDir } from "./_private.ts"
import { pristineTarball, unpackInto } from "./_pristine.ts"
import { ExchangeQueue } from "./socket-queue.ts"
import { logger } from "../log.ts"

const log = logger("db")

export const EMBEDDED_URL_FILE = "embedded-db.json"
/** libpq's socket name, so `psql -h <socket dir>` reaches the embedded database too. */
const SOCKET_PORT = 5432
/** sun_path holds 108 bytes on Linux (104 on macOS); a longer data dir puts the socket under the temp dir. */
const MAX_SOCKET_PATH = 100

/** How a client reaches the embedded database: porsager options (a `host` with a slash is a socket directory). */
export interface EmbeddedConnection {
  host: string
  port: number
  user: string
  database: string
  /** The libpq form, for psql and logs: postgresql://postgres@/postgres?host=<dir>. */
  url: string
}

function connectionFor(socketDir: string): EmbeddedConnection {
  return {
    host: socketDir,
    port: SOCKET_PORT,
    user: "postgres",
    database: "postgres",
    url: `postgresql://postgres@/postgres?host=${encodeURIComponent(socketDir)}`,
  }
}

/** The embedded database a running pool serves from `dataDir`, if any. */
export function runningEmbedded(dataDir: string): EmbeddedConnection | undefined {
  try {
    const { socketDir, pid } = JSON.parse(readFileSync(join(dataDir, EMBEDDED_URL_FILE), "utf8"))
    process.kill(pid, 0)
    return connectionFor(socketDir)
  } catch {
    return undefined
  }
}

/** `<dataDir>/db-socket`, or a fresh 0700 temp dir when that path is too long for a socket address. */
function socketDirFor(dataDir: string): { dir: string; temporary: boolean } {
  const dir = join(dataDir, "db-socket")
  if (join(dir, `.s.PGSQL.${SOCKET_PORT}`).length <= MAX_SOCKET_PATH) {
    privateDir(dir)
    return { dir, temporary: false }
  }
  return { dir: mkdtempSync(join(tmpdir(), "cellule-db-")), temporary: true } // mkdtemp creates it 0700
}

/**
 * PGlite's file-system bundle (6.2 MB: Postgres' share/ and lib/ files) as PGlite takes it: one
 * ArrayBuffer whose slices become the MEMFS files for as long as the database runs, though Postgres
 * only reads a few of them (a time zone, the abbreviations, a conversion library if a client asks for
 * one). Read into memory, all 6.2 MB stay resident; mapped from the file (private, so a MEMFS write
 * copies the page and never reaches the file), only the pages Postgres reads are, and those are clean
 * file pages the kernel can drop: ~5 MB less RSS (bench/README.md, memory). The file is never
 * rewritten in place (node_modules, or a new folder from core/pack.ts). Read as before where Bun
 * cannot map it.
 */
export function fsBundleOf(path: string): { arrayBuffer(): Promise<ArrayBuffer> } {
  return {
    arrayBuffer: async () => {
      try {
        return Bun.mmap(path, { shared: false }).buffer
      } catch (e) {
        log.debug(`${path} read, not mapped: ${e}`)
        return await Bun.file(path).arrayBuffer()
      }
    },
  }
}

export class EmbeddedDatabase {
  private db?: PGlite
  private server?: PGLiteSocketServer
  private lock?: DirLock
  private socket?: { dir: string; temporary: boolean }
  private previousUmask?: number
  connection?: EmbeddedConnection

  constructor(
    private readonly dataDir: string,
    /** shared_buffers in MB, or "auto": sized from the data already there (core/db/cache-size.ts). */
    private readonly cacheMb: number | "auto" = "auto",
  ) {}

  async start(): Promise<EmbeddedConnection> {
    // Lock first: two PGlite instances on one directory would corrupt it.
    this.lock = lockDataDir(this.dataDir)
    try {
      // PGlite (Emscripten's NODEFS) creates its files with the process umask, some of them 0666:
      // owner-only for as long as this database runs, then every existing file fixed below.
      this.previousUmask = process.umask(0o077)
      const t0 = performance.now()
      const pgdata = join(this.dataDir, "pgdata")
      const needsInitdb = !(await this.cluster(pgdata))
      // After the cluster exists: "auto" sizes the cache from the relations already there.
      const buffersMb = cacheMbFor(pgdata, this.cacheMb)
      const assets = await pgliteAssets(join(this.dataDir, "cache"))
      const vectorPath = assets.vectorBundle
      const vectorExt: Extension = {
        name: vector.name,
        setup: async (pg, opts) => ({ ...(await vector.setup(pg, opts)), bundlePath: pathToFileURL(vectorPath) }),
      }
      // initdb's module (and its instance) is only wanted where no cluster could be unpacked.
      const [pgliteWasmModule, initdbWasmModule] = await Promise.all([
        WebAssembly.compile(await Bun.file(assets.pgliteWasm).arrayBuffer()),
        needsInitdb ? WebAssembly.compile(await Bun.file(assets.initdbWasm).arrayBuffer()) : undefined,
      ])
      const fsBundle = fsBundleOf(assets.pgliteData)
      this.db = await PGlite.create({
        dataDir: pgdata,
        extensions: { vector: vectorExt },
        pgliteWasmModule,
        initdbWasmModule,
        // PGlite takes any object with arrayBuffer() (its type says Blob)
        fsBundle: fsBundle as Blob,
        // Postgres' default 128 MB of shared buffers all end up resident in the WASM heap; a pool without
        // documents keeps 16 MB (a restarted pool: 290 → 161 MB, bench/memory); one with documents gets
        // a cache that holds its search index (core/db/cache-size.ts).
        startParams: [...PGlite.defaultStartParams, "-c", `shared_buffers=${buffersMb}MB`],
      })
      // Files written before this version, or chmod-ed by PGlite itself, become owner-only.
      ownerOnly(pgdata)
      this.socket = socketDirFor(this.dataDir)
      const socketPath = join(this.socket.dir, `.s.PGSQL.${SOCKET_PORT}`)
      rmSync(socketPath, { force: true }) // a killed pool leaves its socket; we hold the lock, so it is stale
      this.server = new PGLiteSocketServer({ db: this.db, path: socketPath, maxConnections: 8 })
      // the library's queue can switch clients mid-exchange (core/db/socket-queue.ts); its handlers take
      // the queue from this field when a client connects
      Object.assign(this.server, { queryQueue: new ExchangeQueue(this.db) })
      await this.server.start()
      this.connection = connectionFor(this.socket.dir)
      // Offline admin tools (admin-reset-password, setup) reach the running pool's database here.
      writeFileSync(
        join(this.dataDir, EMBEDDED_URL_FILE),
        JSON.stringify({ socketDir: this.socket.dir, pid: process.pid }),
        { mode: 0o600 },
      )
      log.info(
        `embedded database ready in ${Math.round(performance.now() - t0)} ms (${pgdata}, cache ${buffersMb} MB, socket ${socketPath})`,
      )
      return this.connection
    } catch (e) {
      await this.stop()
      throw e
    }
  }

  /**
   * Makes sure `pgdata` holds a cluster, unpacking the pristine one when it does not: true when it
   * does, false when PGlite must run initdb (a binary built without the tarball). We hold the lock.
   */
  private async cluster(pgdata: string): Promise<boolean> {
    // A crash while unpacking leaves a staging dir next to pgdata/, never a half cluster in it.
    for (const name of readdirSync(this.dataDir))
      if (name.startsWith("pgdata.new-")) rmSync(join(this.dataDir, name), { recursive: true, force: true })
    if (existsSync(join(pgdata, "PG_VERSION"))) {
      privateDir(pgdata)
      return true
    }
    const tarball = await pristineTarball()
    if (!tarball) {
      privateDir(pgdata)
      return false
    }
    if (existsSync(pgdata)) {
      // No PG_VERSION: not a cluster Postgres could open (an older version's interrupted first boot).
      // Kept aside rather than deleted: it is the user's directory.
      if (readdirSync(pgdata).length === 0) rmSync(pgdata, { recursive: true })
      else {
        const aside = `${pgdata}.incomplete-${Date.now()}`
        log.warn(`${pgdata} holds no database (no PG_VERSION); moved to ${aside}`)
        renameSync(pgdata, aside)
      }
    }
    unpackInto(tarball, pgdata)
    log.info(`new database unpacked into ${pgdata}`)
    return true
  }

  async stop() {
    const { server, db, lock, socket, previousUmask } = this
    this.server = this.db = this.lock = this.socket = this.previousUmask = this.connection = undefined
    try {
      if (lock) rmSync(join(this.dataDir, EMBEDDED_URL_FILE), { force: true })
      await server?.stop()
      await db?.close()
      if (socket?.temporary) rmSync(socket.dir, { recursive: true, force: true })
    } finally {
      if (previousUmask !== undefined) process.umask(previousUmask)
      lock?.release()
    }
  }
}
