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
import { Scheduler } from "../scheduler/scheduler.ts"
import { workerHub } from "../workers/hub.ts"
import { openaiRoutes } from "../http/routes/openai.ts"
import { keyRoutes } from "../http/routes/keys.ts"
import { Forwarder } from "../scheduler/forward.ts"
import { balancingPage } from "../http/routes/balancing-page.ts"
import { verifyTrustedPeer } from "../federation/transport.ts"
import { ApiKeys } from "../auth/api-keys.ts"
import { AnonymousAccess } from "../auth/anonymous-access.ts"
import { KeyUsageSync } from "../auth/key-usage-sync.ts"
import { workerRoutes } from "../http/routes/workers.ts"
import { knownModels, rememberModel } from "../catalog/models.ts"
import { LicenseStore } from "../license/store.ts"
import { licenseRoutes } from "../http/routes/license.ts"
import { lifecycleHubOptions } from "../workers/lifecycle.ts"
import { installRoutes } from "../http/routes/install.ts"
import { modelFileRoutes } from "../http/routes/model-files.ts"
import { provisioningRoutes } from "../http/routes/provisioning.ts"
import { workersPageRoutes } from "../http/routes/workers-page.ts"
import { Federation, advertisedUrl } from "../federation/index.ts"
import { federationRoutes } from "../http/routes/federation.ts"
import { bootSetup, publishSetupSites, type SitePublish } from "../setup/index.ts"
import { shellRoutes } from "../http/routes/shell.ts"
import { projectRoutes } from "../http/routes/projects.ts"
import { createRag, ground } from "../rag/index.ts"

const log = logger("pool")

export interface RunningPool {
  url: string
  scheduler: Scheduler
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
    let declaredHeadcount = 0
    const scheduler = new Scheduler({
      clock,
      maxQueue: config.maxQueue,
      queueTimeoutMs: config.queueTimeoutMs,
      interactiveReserve: config.interactiveReserve,
      interactiveWindowMs: config.interactiveWindowMs,
      headcount: () => declaredHeadcount,
      heartbeatMs: config.heartbeatMs,
      onModelSeen: (id, kind) => rememberModel(db.sql, id, kind),
    })
    for (const m of await knownModels(db.sql)) scheduler.knownModels.set(m.id, m.kind)
    // Declared headcount (replicated site declarations) sizes the automatic queue bound; refreshed in the background.
    const refreshHeadcount = () =>
      db.sql<{ n: number }[]>`select coalesce(sum(headcount), 0)::int as n from sites`
        .then(([r]) => (declaredHeadcount = r.n))
        .catch(() => {})
    await refreshHeadcount()
    const headcountTimer = setInterval(refreshHeadcount, 30_000)
    headcountTimer.unref?.()
    // Verifies the stored licence with this build's key; a bad one is logged and gated, never fatal.
    const license = new LicenseStore(db.sql, { clock })
    await license.load()
    // The wizard gate: closed until setup is completed (here from CELLULE_SETUP_ANSWERS, or in /setup/ui).
    const setupGate = await bootSetup(db.sql, clock, {
      answersFile: config.setupAnswers,
      deps: { installLicense: (t) => license.install(t, "setup answers") },
    })
    // Federation identity before anything listens: a missing key the database remembers stops start-up.
    const federation = await Federation.open(db.sql, config, clock, config.poolUrl)
    // Sites declared in the wizard join the replicated site list (idempotent; covers headless setups).
    const publishSite = (site: SitePublish) => federation.publish("site", site)
    await publishSetupSites(db.sql, publishSite)
    await federation.checkAdvertisedUrl()
    scheduler.start()
    const ctx: PoolContext = {
      license,
      config,
      db,
      clock,
      startedAt: clock.now(),
      statusExtra: () => {
        const snap = scheduler.snapshot()
        return { workers: snap.workers.length, queue_depth: snap.queue_depth }
      },
    }
    const apiKeys = new ApiKeys(db.sql, clock, (kind, payload) => federation.publish(kind, payload))
    const anonymous = new AnonymousAccess(db.sql, clock, config.anonymousAccess, (kind, payload) =>
      federation.publish(kind, payload),
    )
    const hub = workerHub({
      scheduler,
      poolName: config.poolName,
      heartbeatMs: config.heartbeatMs,
      workerToken: config.workerToken,
      ...lifecycleHubOptions(db, config, clock),
    })
    const forwarder = config.fedMode === "active" ? new Forwarder(federation, config.minTrustLevel) : undefined
    // RAG: documents are embedded by workers through the scheduler; the pool never loads an embedder.
    const rag = createRag(db.sql, clock, config, { scheduler }, { publish: (kind, p) => federation.publish(kind, p) })
    const keyUsage = new KeyUsageSync(federation, apiKeys, config.minTrustLevel, config.keyUsageSyncMs)
    const app = buildApp(ctx, [
      openaiRoutes({
        scheduler,
        keys: apiKeys,
        anonymous,
        forwarder,
        verifyPeer: (request, bytes) => verifyTrustedPeer(db.sql, request, bytes, clock.now(), config.minTrustLevel),
        ground: async (projectId, keyProject, messages) => {
          await rag.projects.require({ kind: "key", project: keyProject }, projectId)
          return ground(rag.search, rag.memories, projectId, messages)
        },
      }),
      keyRoutes(apiKeys, anonymous, keyUsage),
      projectRoutes(rag, apiKeys),
      balancingPage(scheduler, apiKeys, anonymous, keyUsage, forwarder),
      workerRoutes(scheduler),
      licenseRoutes,
      installRoutes,
      modelFileRoutes,
      provisioningRoutes(hub),
      workersPageRoutes(scheduler, hub),
      federationRoutes(federation),
      ...shellRoutes(setupGate, scheduler, { publishSite }),
    ])
    http = startServer({ host: config.host, port: config.port, app, ws: hub })
    const host = config.host === "0.0.0.0" || config.host === "::" ? "127.0.0.1" : config.host
    const url = `http://${host}:${http.port}`
    log.info(`pool ${config.poolName} listening on ${url}`)
    federation.url = advertisedUrl(config.poolUrl, http.port)
    federation.start()
    keyUsage.start()
    await rag.start()
    let stopped: Promise<void> | undefined
    return {
      url,
      scheduler,
      port: http.port,
      db,
      ctx,
      stop() {
        stopped ??= (async () => {
          log.info("stopping: no new requests, finishing in-flight ones")
          // The indexer stops with the listener: its job in flight still has its worker to finish on.
          await Promise.all([http!.stop(config.shutdownGraceMs), rag.stop()])
          hub.closeAll("pool stopping")
          await Promise.all([federation.stop(), keyUsage.stop()])
          clearInterval(headcountTimer)
          scheduler.stop()
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
