// core/db/client — opens the pool's database: DATABASE_URL when set, otherwise the embedded
// PGlite server. Checks pgvector and applies migrations before anyone else gets the handle.
// The driver, vendored with fixes for a connection that closes under it (vendor/postgres/README.md): unpatched,
// one dropped connection during a transaction ended the process or lost the database for good.
import postgres from "../../vendor/postgres/src/index.js"
import { CelluleError, ServiceUnavailable } from "../errors.ts"
import { logger } from "../log.ts"
import { EmbeddedDatabase } from "./embedded.ts"
import { migrate } from "./migrate.ts"

const log = logger("db")

export type Sql = postgres.Sql<{}>
export type Tx = postgres.TransactionSql<{}>

export interface Database {
  sql: Sql
  mode: "embedded" | "external"
  /** The wire URL (embedded: libpq's form naming the Unix socket directory, for psql). */
  url: string
  ping(): Promise<boolean>
  close(): Promise<void>
}

export class PgvectorMissing extends CelluleError {
  constructor(cause: unknown) {
    super(
      "pgvector_missing",
      "the PostgreSQL server at DATABASE_URL does not have the pgvector extension, which Cellule requires",
      503,
      "use the pgvector/pgvector:pg16 image (or install postgresql-<version>-pgvector) and restart",
      { cause },
    )
  }
}

function redact(url: string) {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, "//$1:***@")
}

export interface OpenOptions {
  dataDir: string
  databaseUrl?: string
  /** Connections to an external server (the embedded one is a single backend: always 1). */
  poolMax?: number
  /** Skip migrations (tools that only read). */
  migrate?: boolean
  /** The embedded database's buffer cache in MB, or "auto" (sized from the data, core/db/cache-size.ts). */
  cacheMb?: number | "auto"
}

export async function openDatabase(opts: OpenOptions): Promise<Database> {
  let embedded: EmbeddedDatabase | undefined
  let url = opts.databaseUrl
  let socket: { host: string; port: number; user: string; database: string } | undefined
  if (!url) {
    embedded = new EmbeddedDatabase(opts.dataDir, opts.cacheMb)
    const conn = await embedded.start()
    url = conn.url
    socket = { host: conn.host, port: conn.port, user: conn.user, database: conn.database }
  }
  const common = { onnotice: () => {}, connect_timeout: 10, connection: { application_name: "cellule" } }
  // PGlite is one backend: a single connection keeps transactions from interleaving. porsager does not read
  // libpq's ?host=<dir>, so the embedded socket is given as options.
  const sql = socket
    ? postgres({ ...socket, ...common, max: 1, idle_timeout: 0 })
    : postgres(url, { ...common, max: opts.poolMax ?? 10, idle_timeout: 60 })
  const close = async () => {
    await sql.end({ timeout: 5 })
    await embedded?.stop()
  }
  try {
    try {
      await sql`select 1`
    } catch (e) {
      throw new ServiceUnavailable(
        "db_unreachable",
        `cannot reach the database at ${redact(url)}: ${(e as Error).message}`,
        "check DATABASE_URL and that PostgreSQL is running",
        { cause: e },
      )
    }
    try {
      await sql`create extension if not exists vector`
    } catch (e) {
      throw new PgvectorMissing(e)
    }
    if (opts.migrate !== false) await migrate(sql)
  } catch (e) {
    await close().catch(() => {})
    throw e
  }
  log.info(`database ${embedded ? "embedded (PGlite + pgvector)" : redact(url)} ready`)
  return {
    sql,
    mode: embedded ? "embedded" : "external",
    url,
    async ping() {
      try {
        await sql`select 1`
        return true
      } catch {
        return false
      }
    },
    close,
  }
}
