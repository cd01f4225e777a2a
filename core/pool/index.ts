// core/pool — the composition root of `cellule pool`: database, domains, HTTP listener, shutdown.
// Owns start-up order and the stop sequence; knows no HTTP details itself.
import type { Config } from "../config/index.ts"
import { openDatabase, type Database } from "../db/client.ts"
import { buildApp } from "../http/app.ts"
import { startServer, type HttpServer } from "../http/server.ts"
import { systemClock, type Clock } from "../clock.ts"
import { logger } from "../log.ts"
import { logRequest } from "../http/request-log.ts"
import { VERSION } from "../version.ts"
import { Scheduler } from "../scheduler/scheduler.ts"
import { workerHub } from "../workers/hub.ts"
import { Forwarder } from "../scheduler/forward.ts"
import { ApiKeys } from "../auth/api-keys.ts"
import { AnonymousAccess } from "../auth/anonymous-access.ts"
import { KeyUsageSync } from "../auth/key-usage-sync.ts"
import { knownModels, rememberModel } from "../catalog/models.ts"
import { LicenseStore } from "../license/store.ts"
import { requireFeature, requireLimit } from "../license/gate.ts"
import { lifecycleHubOptions } from "../workers/lifecycle.ts"
import { ClusterWorkers } from "../workers/cluster.ts"
import { releaseKeyFor } from "../workers/release-key.ts"
import { Federation, advertisedUrl } from "../federation/index.ts"
import { bootSetup, publishSetupSites, type SitePublish } from "../setup/index.ts"
import { recordPoolName } from "./identity.ts"
import { poolServices, type PoolServices } from "./services.ts"
import { declaredHeadcount as declaredHeadcountOf } from "../federation/admin-queries.ts"
import { createRag } from "../rag/index.ts"
import { AdminSettings, settingsRole } from "../settings/admin.ts"
import { LiveSettings } from "../settings/live.ts"
import { poolLatencyRouting, poolMigrations, startPoolExecutor } from "../workers/migration/pool.ts"
import { startBalancer } from "../workers/migration/balancer-loop.ts"
import { workerPins } from "../workers/migration/pins.ts"
import { WorkerEmbeddings } from "../rag/embed.ts"
import { Guidance } from "../gateway/guidance.ts"
import { SmartRouter } from "../gateway/smart-routing.ts"
import { ModelProbe } from "../catalog/probe.ts"
import { ensureAgentToken, PoolVip } from "../vip/store.ts"
import { hostOf } from "../vip/net.ts"
import { CatalogueSync } from "../catalog/sync.ts"
import { enableTtftTrace } from "../metrics/ttft-trace.ts"

const log = logger("pool")

export interface RunningPool {
  url: string
  scheduler: Scheduler
  port: number
  db: Database
  services: PoolServices
  stop(): Promise<void>
}

export async function startPool(config: Readonly<Config>, clock: Clock = systemClock): Promise<RunningPool> {
  log.info(`starting pool ${config.poolName} (cellule ${VERSION})`)
  const db = await openDatabase({
    dataDir: config.dataDir,
    databaseUrl: config.databaseUrl,
    poolMax: config.databasePoolMax,
    cacheMb: config.dbCacheMb,
  })
  let http: HttpServer | undefined
  try {
    await recordPoolName(db.sql, config.poolName)
    let declaredHeadcount = 0
    // This pool's federation id once open: the headcount then counts only the sites it serves (and unassigned ones).
    let selfAtom: string | undefined
    const scheduler = new Scheduler({
      clock,
      maxQueue: config.maxQueue,
      clientQueueMax: config.clientQueueMax,
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
      declaredHeadcountOf(db.sql, selfAtom)
        .then((n) => (declaredHeadcount = n))
        .catch(() => {})
    await refreshHeadcount()
    const headcountTimer = setInterval(refreshHeadcount, 30_000)
    headcountTimer.unref?.()
    // Verifies the stored licence with this build's key; a bad one is logged and gated, never fatal.
    const license = new LicenseStore(db.sql, { clock })
    await license.load()
    if (config.licenseKey) await license.installAtBoot(config.licenseKey)
    // The wizard gate: closed until setup is completed (here from CELLULE_SETUP_ANSWERS, or in /setup/ui).
    const setupGate = await bootSetup(db.sql, clock, {
      answersFile: config.setupAnswers,
      deps: {
        installLicense: (t) => license.install(t, "setup answers"),
        network: { poolHost: hostOf(config.poolUrl) },
      },
    })
    // Federation identity before anything listens: a missing key the database remembers stops start-up.
    const federation = await Federation.open(db.sql, config, clock, config.poolUrl)
    selfAtom = federation.identity.atomId
    await refreshHeadcount()
    // Sites declared in the wizard join the replicated site list (idempotent; covers headless setups).
    const publishSite = (site: SitePublish) => federation.publish("site", site)
    await publishSetupSites(db.sql, publishSite)
    await federation.checkAdvertisedUrl()
    scheduler.start()
    // §7.4-7.5: each new bond counts against max_pools; one over a non-LAN link needs multi_site.
    federation.setBondGate(async ({ pools, link }) => {
      const state = await license.state()
      requireLimit("max_pools", pools, state)
      if (link && link !== "lan") requireFeature("multi_site", state)
    })
    const apiKeys = new ApiKeys(db.sql, clock, (kind, payload) => federation.publish(kind, payload))
    const anonymous = new AnonymousAccess(db.sql, clock, config.anonymousAccess, (kind, payload) =>
      federation.publish(kind, payload),
    )
    let clusterWorkers: ClusterWorkers | undefined
    // Advanced settings that act while the pool runs: runtime flags pushed to workers, the MoE profile.
    const live = new LiveSettings(db.sql, { pushRuntimeFlags: (cls, flags) => hub.pushRuntimeFlags(cls, flags) })
    scheduler.moeProfile = () => live.moe
    // §4.8 latency routing, built with the migration orders below; the hub feeds it handshakes and probe rounds.
    let latency: ReturnType<typeof poolLatencyRouting> | undefined
    const hub = workerHub({
      scheduler,
      latency: {
        probeMs: () => latency?.probeMs(),
        hello: async (id, address, rtts, moved) => latency?.router.hello(id, address, rtts, moved),
        heartbeat: async (id, rtts) => latency?.router.heartbeat(id, rtts),
        gone: (id) => latency?.router.gone(id),
      },
      poolName: config.poolName,
      heartbeatMs: config.heartbeatMs,
      workerToken: config.workerToken,
      runtimeFlags: (cls) => live.runtimeFlags(cls),
      ...lifecycleHubOptions(
        db,
        config,
        clock,
        undefined,
        () => clusterWorkers?.peerUrls ?? [],
        () => clusterWorkers?.peerReleaseKeys ?? {},
      ),
    })
    // Enrolments and revocations reach every bonded pool; a revocation from a peer closes connections here.
    clusterWorkers = new ClusterWorkers(db.sql, {
      publish: (kind, payload) => federation.publish(kind, payload),
      liveTokenIds: () => hub.liveTokenIds(),
      closeToken: (id) => hub.closeToken(id),
      minTrust: config.minTrustLevel,
      releaseKey: { atomId: federation.identity.atomId, publicKey: releaseKeyFor(config.dataDir).publicKey },
    })
    const forwarder =
      config.fedMode === "active" && config.forwarding ? new Forwarder(federation, config.minTrustLevel) : undefined
    // RAG: documents are embedded by workers through the scheduler; the pool never loads an embedder.
    const rag = createRag(
      db.sql,
      clock,
      config,
      { scheduler },
      { publish: (kind, p) => federation.publish(kind, p), peers: federation },
    )
    // §4.9 guidance, the model probe and model "auto" (core/gateway/guidance.ts, core/catalog/probe.ts,
    // core/gateway/smart-routing.ts); the prompt is embedded on workers, like RAG's chunks.
    const guidance = new Guidance(db.sql, clock)
    const modelProbe = new ModelProbe(db.sql, clock, scheduler, { storeDir: config.modelStoreDir })
    await modelProbe.recover()
    const smartRouter = new SmartRouter(
      db.sql,
      clock,
      new WorkerEmbeddings(scheduler, config.ragEmbeddingModel),
      scheduler,
    )
    const keyUsage = new KeyUsageSync(federation, apiKeys, config.minTrustLevel, config.keyUsageSyncMs)
    // The one services object every route receives (core/pool/services.ts); the mount table is core/http/app.ts.
    const services = poolServices({
      config,
      db,
      clock,
      statusExtra: () => {
        const snap = scheduler.snapshot()
        return { workers: snap.workers.length, queue_depth: snap.queue_depth }
      },
      license,
      licenseGate: true,
      scheduler,
      setupGate,
      publishSite,
      apiKeys,
      anonymous,
      keyUsage,
      federation,
      forwarder,
      hub,
      rag,
      guidance,
      modelProbe,
      // The VIP (§4.7): `cellule vip` on this host reads <data dir>/vip/agent.token to read its settings.
      vip: new PoolVip(db.sql, clock, { agentToken: ensureAgentToken(config.dataDir), poolPort: config.port }),
      smartRouter,
      settings: new AdminSettings(
        db.sql,
        config,
        federation.identity,
        (kind, payload) => federation.publish(kind, payload),
        () => live.kick(),
        // Settings follow the catalogue's master (§4.6.3): a bonded satellite sends the admin there.
        () => settingsRole(db.sql, () => services.catalog.role.view()),
        async () => {
          const p = await services.setup.readProfile()
          return p ? { sector: p.sector, headcount: p.sites.reduce((n, x) => n + x.headcount, 0) } : null
        },
      ),
    })
    // Before the listener: the first workers' welcome carries the runtime flags already stored.
    await live.start()
    // Worker migration orders (§4.6.1–4.6.2): the API, and the executor that walks them.
    services.migrations = poolMigrations({
      sql: db.sql,
      clock,
      config,
      federation,
      scheduler,
      audit: services.audit,
      forwarder,
    })
    latency = poolLatencyRouting({ sql: db.sql, clock, config, federation }, services.migrations)
    await latency.start()
    services.pins = workerPins(db.sql, (kind, payload) => federation.publish(kind, payload))
    if (config.ttftTrace) enableTtftTrace()
    const app = buildApp(services)
    http = startServer({
      host: config.host,
      port: config.port,
      app,
      ws: hub,
      maxRequestBodySize: config.modelUploadMaxBytes + 1024 * 1024,
      onResponse: (path, status, method, ms) => {
        services.httpMetrics.record(path, status)
        if (config.requestLog) logRequest(method, path, status, ms)
      },
    })
    const host = config.host === "0.0.0.0" || config.host === "::" ? "127.0.0.1" : config.host
    const url = `http://${host}:${http.port}`
    log.info(`pool ${config.poolName} listening on ${url}`)
    federation.url = advertisedUrl(config.poolUrl, http.port)
    // Before gossip starts: a pool configured as catalogue master claims the role only when no record
    // exists yet (a returning old master finds the newer record and stays a satellite).
    await services.catalog.role.claimAtBoot()
    // A catalogue satellite copies the master's model files into its own store (core/catalog/sync.ts).
    const catalogueSync = new CatalogueSync({
      sql: db.sql,
      storeDir: config.modelStoreDir,
      role: services.catalog.role,
      identity: federation.identity,
      clock,
      intervalMs: config.catalogueSyncMs,
      timeoutMs: config.catalogueCopyTimeoutMs,
    })
    services.catalogueSync = catalogueSync
    federation.start()
    catalogueSync.start()
    keyUsage.start()
    clusterWorkers.start()
    // Applies the audit and usage retention the wizard stored: once now, then daily (core/audit/retention.ts).
    const retention = services.audit.retentionJob()
    retention.start()
    const executor = startPoolExecutor(services.migrations, config)
    // The balancer (licence feature `balancer`): orders this pool's idle workers toward a peer with a backlog.
    const balancer = startBalancer(
      {
        sql: db.sql,
        scheduler,
        forwarder,
        orders: services.migrations,
        licensed: async () => requireFeature("balancer", await license.state()),
      },
      config.balancerIntervalMs,
    )
    await rag.start()
    let stopped: Promise<void> | undefined
    return {
      url,
      scheduler,
      port: http.port,
      db,
      services,
      stop() {
        stopped ??= (async () => {
          log.info("stopping: no new requests, finishing in-flight ones")
          // The indexer stops with the listener: its job in flight still has its worker to finish on.
          await Promise.all([http!.stop(config.shutdownGraceMs), rag.stop()])
          executor.stop()
          latency?.stop()
          balancer.stop()
          hub.closeAll("pool stopping")
          await Promise.all([
            catalogueSync.stop(),
            federation.stop(),
            keyUsage.stop(),
            clusterWorkers!.stop(),
            retention.stop(),
            live.stop(),
          ])
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
