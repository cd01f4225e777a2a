// core/pool/services — the one object the HTTP edge receives (PoolServices). The composition root
// (core/pool/index.ts) builds it once; tests build it with poolServices() from a database. Routes get
// services and small domain facades whose functions already hold the database: no route, page or
// command ever sees a `db` or `sql` handle.
import type { Config } from "../config/index.ts"
import type { Database } from "../db/client.ts"
import type { Clock } from "../clock.ts"
import { LicenseStore } from "../license/store.ts"
import { Scheduler } from "../scheduler/scheduler.ts"
import type { SetupGate } from "../setup/gate.ts"
import type { SitePublish } from "../setup/sites.ts"
import type { ApiKeys } from "../auth/api-keys.ts"
import type { AnonymousAccess } from "../auth/anonymous-access.ts"
import type { KeyUsageSync } from "../auth/key-usage-sync.ts"
import type { Federation } from "../federation/index.ts"
import type { Forwarder } from "../scheduler/forward.ts"
import type { WorkerConnections } from "../workers/connections.ts"
import type { Rag } from "../rag/index.ts"
import { settingsRole, type AdminSettings } from "../settings/admin.ts"
import type { Guidance } from "../gateway/guidance.ts"
import type { SmartRouter } from "../gateway/smart-routing.ts"
import type { ModelProbe } from "../catalog/probe.ts"
import type { PoolVip } from "../vip/store.ts"
import { type AuditService, auditService } from "../audit/index.ts"
import { HttpMetrics } from "../metrics/pool.ts"
import type { WorkerPins } from "../workers/migration/pins.ts"
import type { MigrationOrders } from "../workers/migration/orders.ts"
import { CatalogueRole } from "../catalog/master.ts"
import type { CatalogueSync } from "../catalog/sync.ts"
import { ProxiesSeen } from "../proxy/identity.ts"
import { adminsFacade, catalogFacade, peersFacade, setupFacade, workersFacade } from "./facades.ts"

export interface PoolServices {
  config: Readonly<Config>
  clock: Clock
  startedAt: number
  /** The installed licence: the licence routes, the wizard's licence step and the dashboard banner read it. */
  license: LicenseStore
  /** Whether the global licence gate refuses mutations (the pool: always; in-process tests: when given a store). */
  licenseGate: boolean
  /** /v1/status: database reachability and mode, plus fields other domains contribute (workers, queue). */
  health: { ping(): Promise<boolean>; mode: string; extra?: () => Record<string, unknown> }
  admins: ReturnType<typeof adminsFacade>
  setup: ReturnType<typeof setupFacade>
  workers: ReturnType<typeof workersFacade>
  catalog: ReturnType<typeof catalogFacade>
  peers: ReturnType<typeof peersFacade>
  scheduler: Scheduler
  /** In-memory request counters the listener bumps and GET /metrics reads (core/metrics/pool.ts). */
  httpMetrics: HttpMetrics
  /** The append-only audit log: action sites record, the Audit page and /v1/admin/audit read. */
  audit: AuditService
  /** Worker migration orders (§4.6); absent: the /v1/admin/migration-orders API is not mounted. */
  migrations?: MigrationOrders
  /** The `home_pool` pins (§4.2, core/workers/migration/pins.ts); present with the migration orders. */
  pins?: WorkerPins
  /** The wizard gate (a global hook); absent in apps that do not serve the wizard. */
  setupGate?: SetupGate
  /** Publishes a wizard site to the cluster's replicated site list (the pool wires federation here). */
  publishSite?: (site: SitePublish) => Promise<unknown>
  apiKeys?: ApiKeys
  anonymous?: AnonymousAccess
  keyUsage?: KeyUsageSync
  federation?: Federation
  /** Inter-pool forward (federation active); absent: answer from this pool only. */
  forwarder?: Forwarder
  /** The worker hub's live connections (revoking a token closes them). */
  hub?: WorkerConnections
  /** Projects, documents, memories and search (core/rag); absent: the projects API is not mounted. */
  rag?: Rag
  /** Advanced settings (core/settings/admin.ts): the settings API and page; absent without federation. */
  settings?: AdminSettings
  /** §4.9 guidance on chat answers (SYSTEM_PROMPT, think strip, preamble filter); absent: think strip only. */
  guidance?: Guidance
  /** `model: "auto"` (§2.1); absent: "auto" is an ordinary model name. */
  smartRouter?: SmartRouter
  /** The model probe (§4.9.4); absent: the probe API is not mounted and assignment is not gated. */
  modelProbe?: ModelProbe
  /** The pool VIP (§4.7): settings from the wizard, state from `cellule vip`; absent: the VIP routes are not mounted. */
  vip?: PoolVip
  /** A satellite's copies of the master's model files (core/catalog/sync.ts); set by the pool after boot. */
  catalogueSync?: CatalogueSync
  /** The `cellule proxy` instances whose health checks reached this pool (in memory, core/proxy/identity.ts). */
  proxiesSeen: ProxiesSeen
}

type Optional = Partial<
  Omit<PoolServices, "admins" | "setup" | "workers" | "catalog" | "peers" | "health" | "proxiesSeen">
>

/**
 * Services from a database and a configuration; every other service is optional (an app without
 * API keys simply does not mount the OpenAI routes). Without a scheduler, an idle one is made.
 */
export function poolServices(
  base: {
    config: Readonly<Config>
    db: Database
    clock: Clock
    statusExtra?: () => Record<string, unknown>
  } & Optional,
): PoolServices {
  const { db, clock, config, statusExtra, ...rest } = base
  const sql = db.sql
  const out: PoolServices = {
    ...rest,
    config,
    clock,
    startedAt: rest.startedAt ?? clock.now(),
    proxiesSeen: new ProxiesSeen(() => clock.now()),
    license: rest.license ?? new LicenseStore(sql, { clock }),
    licenseGate: rest.licenseGate ?? rest.license !== undefined,
    health: { ping: () => db.ping(), mode: db.mode, extra: statusExtra },
    admins: adminsFacade(
      sql,
      clock,
      rest.federation ? { fed: rest.federation, minTrust: config.minTrustLevel } : undefined,
    ),
    // Branding is cluster-wide (kind "branding"), changed where settings are: the catalogue master.
    setup: setupFacade(sql, clock, {
      publish: rest.federation ? (kind, payload) => rest.federation!.publish(kind, payload) : undefined,
      role: () => settingsRole(sql, () => out.catalog.role.view()),
      origin: () => config.poolName,
    }),
    workers: workersFacade(sql, clock, config),
    catalog: catalogFacade(
      sql,
      config,
      new CatalogueRole(
        sql,
        rest.federation
          ? { id: () => rest.federation!.identity.atomId, url: () => rest.federation!.url }
          : { id: () => config.poolName, url: () => config.poolUrl },
        config.catalogueMaster,
        rest.federation ? (kind, payload) => rest.federation!.publish(kind, payload) : undefined,
      ),
      () => out.catalogueSync,
    ),
    peers: peersFacade(sql, clock, config),
    audit: rest.audit ?? auditService(sql, clock),
    httpMetrics: rest.httpMetrics ?? new HttpMetrics(),
    scheduler:
      rest.scheduler ??
      new Scheduler({
        clock,
        maxQueue: config.maxQueue,
        clientQueueMax: config.clientQueueMax,
        queueTimeoutMs: config.queueTimeoutMs,
        heartbeatMs: config.heartbeatMs,
      }),
  }
  return out
}
