// core/db/embedded — the default database: PGlite with pgvector, persisted under the data dir and
// served on a loopback port by pglite-socket, so the same postgres client code runs in both modes.
import { PGlite, type Extension } from "@electric-sql/pglite"
import { vector } from "@electric-sql/pglite-pgvector"
import { PGLiteSocketServer } from "@electric-sql/pglite-socket"
import { mkdirSync, existsSync, renameSync, writeFileSync, rmSync, readFileSync } from "node:fs"
import { join, basename } from "node:path"
import { pathToFileURL } from "node:url"
import { PGLITE_ASSETS } from "./_assets.ts"
import { lockDataDir, type DirLock } from "./lock.ts"
import { logger } from "../log.ts"

const log = logger("db")

export const EMBEDDED_URL_FILE = "embedded-db.json"

/** The wire URL of the embedded database a running pool serves from `dataDir`, if any. */
export function runningEmbeddedUrl(dataDir: string): string | undefined {
  try {
    const { url, pid } = JSON.parse(readFileSync(join(dataDir, EMBEDDED_URL_FILE), "utf8"))
    process.kill(pid, 0)
    return url
  } catch {
    return undefined
  }
}

/** In a compiled binary the assets live in /$bunfs; PGlite wants a real file for the extension. */
async function onDisk(path: string, cacheDir: string): Promise<string> {
  if (!path.startsWith("/$bunfs")) return path
  mkdirSync(cacheDir, { recursive: true })
  const target = join(cacheDir, basename(path))
  if (!existsSync(target)) {
    // Write then rename: a crash mid-copy never leaves a truncated file under the final name.
    const tmp = `${target}.${process.pid}.tmp`
    await Bun.write(tmp, Bun.file(path))
    renameSync(tmp, target)
  }
  return target
}

export class EmbeddedDatabase {
  private db?: PGlite
  private server?: PGLiteSocketServer
  private lock?: DirLock
  url = ""

  constructor(private readonly dataDir: string) {}

  async start(): Promise<string> {
    // Lock first: two PGlite instances on one directory would corrupt it.
    this.lock = lockDataDir(this.dataDir)
    try {
      const pgdata = join(this.dataDir, "pgdata")
      mkdirSync(pgdata, { recursive: true })
      const t0 = performance.now()
      const cache = join(this.dataDir, "cache", "pglite")
      const vectorPath = await onDisk(PGLITE_ASSETS.vectorBundle, cache)
      const vectorExt: Extension = {
        name: vector.name,
        setup: async (pg, opts) => ({ ...(await vector.setup(pg, opts)), bundlePath: pathToFileURL(vectorPath) }),
      }
      const [pgliteWasmModule, initdbWasmModule] = await Promise.all([
        WebAssembly.compile(await Bun.file(PGLITE_ASSETS.pgliteWasm).arrayBuffer()),
        WebAssembly.compile(await Bun.file(PGLITE_ASSETS.initdbWasm).arrayBuffer()),
      ])
      const fsBundle = new Blob([await Bun.file(PGLITE_ASSETS.pgliteData).arrayBuffer()])
      this.db = await PGlite.create({
        dataDir: pgdata,
        extensions: { vector: vectorExt },
        pgliteWasmModule,
        initdbWasmModule,
        fsBundle,
      })
      this.server = new PGLiteSocketServer({ db: this.db, host: "127.0.0.1", port: 0, maxConnections: 8 })
      await this.server.start()
      const conn = this.server.getServerConn()
      this.url = `postgres://postgres:postgres@${conn}/postgres`
      // Offline admin tools (admin-reset-password, setup) reach the running pool's database here.
      writeFileSync(join(this.dataDir, EMBEDDED_URL_FILE), JSON.stringify({ url: this.url, pid: process.pid }), {
        mode: 0o600,
      })
      log.info(`embedded database ready in ${Math.round(performance.now() - t0)} ms (${pgdata}, ${conn})`)
      return this.url
    } catch (e) {
      await this.stop()
      throw e
    }
  }

  async stop() {
    const { server, db, lock } = this
    this.server = this.db = this.lock = undefined
    try {
      if (lock) rmSync(join(this.dataDir, EMBEDDED_URL_FILE), { force: true })
      await server?.stop()
      await db?.close()
    } finally {
      lock?.release()
    }
  }
}
