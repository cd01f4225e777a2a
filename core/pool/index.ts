// core/pool — the composition root of `cellule pool`: database, domains, HTTP listener, shutdown.
// Owns start-up order and the stop sequence; knows no HTTP details itself.
import type { Config } from "../config/index.ts"
import { openDatabase, type Database } from "../db/client.ts"
import { buildApp } from "../http/app.ts"
import { startServer, type HttpServer } from "../http/server.ts"
import type { PoolContext } from "../http/context.ts"
import { systemClock, type Clock } from "../clock.ts"
import { logger } from "../log.ts"
import { VERSION } from "../version.ts"

const log = logger("pool")

export interface RunningPool {
  url: string
  port: number
  db: Database
  ctx: PoolContext
  stop(): Promise<void>
}

export async function startPool(config: Readonly<Config>, clock: Clock = systemClock): Promise<RunningPool> {
  log.info(`starting pool ${config.poolName} (cellule ${VERSION})`)
  const db = await openDatabase({ dataDir: config.dataDir, databaseUrl: config.databaseUrl })
  let http: HttpServer | undefined
  try {
    await db.sql`insert into pool_identity (id, pool_name) values (1, ${config.poolName})
                 on conflict (id) do update set pool_name = excluded.pool_name`
    const ctx: PoolContext = { config, db, clock, startedAt: clock.now() }
    const app = buildApp(ctx)
    http = startServer({ host: config.host, port: config.port, app })
    const host = config.host === "0.0.0.0" || config.host === "::" ? "127.0.0.1" : config.host
    const url = `http://${host}:${http.port}`
    log.info(`pool ${config.poolName} listening on ${url}`)
    let stopped: Promise<void> | undefined
    return {
      url,
      port: http.port,
      db,
      ctx,
      stop() {
        stopped ??= (async () => {
          log.info("stopping: no new requests, finishing in-flight ones")
          await http!.stop(config.shutdownGraceMs)
          await db.close()
          log.info("stopped")
        })()
        return stopped
      },
    }
  } catch (e) {
    await db.close().catch(() => {})
    throw e
  }
}
