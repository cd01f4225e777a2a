// Test support: PGlite with pgvector behind pglite-socket on a free loopback port, standing in for an
// external PostgreSQL (Debian's PostgreSQL has no pgvector package here). A pool reaches it by URL.
import { PGlite } from "@electric-sql/pglite"
import { vector } from "@electric-sql/pglite-pgvector"
import { PGLiteSocketServer } from "@electric-sql/pglite-socket"

export type SocketDatabase = {
  /** The database itself, for reading what a pool wrote. */
  db: PGlite
  /** DATABASE_URL for a pool. */
  url: string
  stop(): Promise<void>
}

/**
 * Starts a fresh database. `maxConnections` is one per pool: pglite-socket interleaves several clients'
 * extended-protocol messages on its one backend (a DataRow then reaches the wrong connection), which a
 * real PostgreSQL never does, so each pool must also run with CELLULE_DATABASE_POOL_MAX=1.
 */
export async function startSocketDatabase(maxConnections: number): Promise<SocketDatabase> {
  const db = await PGlite.create({ extensions: { vector } })
  const server = new PGLiteSocketServer({ db, host: "127.0.0.1", port: 0, maxConnections })
  await server.start()
  return {
    db,
    url: `postgres://postgres:postgres@${server.getServerConn()}/postgres`,
    async stop() {
      await server.stop()
      await db.close()
    },
  }
}
