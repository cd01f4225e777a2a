// Test support: a federation pool inside the test's own process (its own embedded database, HTTP
// listener and signed p2p routes), for tests that need several pools talking real signed HTTP without a
// process each. Counts the pool-to-pool calls it receives, per route.
import { join } from "node:path"
import type { Server } from "bun"
import { systemClock } from "../../core/clock.ts"
import { loadConfig } from "../../core/config/index.ts"
import { openDatabase } from "../../core/db/client.ts"
import { Federation, advertisedUrl, peers } from "../../core/federation/index.ts"
import { buildApp } from "../../core/http/app.ts"
import { bondingPeerGuard } from "../../core/http/peer-guard.ts"
import { federationAdminRoutes } from "../../core/http/routes/federation-admin.ts"
import { federationIdentityRoutes } from "../../core/http/routes/federation-identity.ts"
import { federationP2pRoutes } from "../../core/http/routes/federation-p2p.ts"
import { poolServices } from "../../core/pool/services.ts"
import { onCleanup, tempDir } from "./proc.ts"

export interface InprocPool {
  name: string
  db: Awaited<ReturnType<typeof openDatabase>>
  fed: Federation
  server: Server<undefined>
  /** Calls received from peers, by route ("p2p/gossip", "p2p/hw", "p2p/pull", …). */
  calls: Record<string, number>
}

export async function startInprocPool(name: string, env: Record<string, string> = {}): Promise<InprocPool> {
  const dataDir = tempDir(`cellule-test-${name}-`)
  const config = loadConfig(
    "pool",
    {},
    {
      CELLULE_DATA_DIR: dataDir,
      POOL_NAME: name,
      CELLULE_FED_ALLOW_LOOPBACK_URL: "true",
      CELLULE_FED_KEY_DIR: join(dataDir, "fed"),
      ...env,
    },
  )
  const db = await openDatabase({ dataDir })
  const fed = await Federation.open(db.sql, config, systemClock, "http://127.0.0.1:0")
  const s = poolServices({ config, db, clock: systemClock, federation: fed })
  const app = buildApp(s, [
    (x) => bondingPeerGuard(x).plugin,
    federationIdentityRoutes,
    federationP2pRoutes,
    federationAdminRoutes,
  ])
  const calls: Record<string, number> = {}
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: (req) => {
      const route = new URL(req.url).pathname.replace("/v1/federation/", "")
      calls[route] = (calls[route] ?? 0) + 1
      return app.handle(req)
    },
  })
  fed.url = advertisedUrl("http://127.0.0.1:0", server.port!)
  fed.start()
  const pool = { name, db, fed, server, calls }
  onCleanup(async () => {
    await fed.stop()
    server.stop(true)
    await db.close()
  })
  return pool
}

/** Bond every pair (tokens) and promote every bond to `trust` on both sides. */
export async function meshInproc(pools: InprocPool[], trust = 3) {
  for (let i = 0; i < pools.length; i++)
    for (let j = i + 1; j < pools.length; j++) {
      const { token } = await peers.createAttachmentToken(pools[j].db.sql, systemClock)
      await pools[i].fed.register(pools[j].fed.url, { token })
    }
  for (const a of pools)
    for (const b of pools) if (a !== b) await peers.promotePeer(a.db.sql, b.fed.identity.atomId, trust)
}
