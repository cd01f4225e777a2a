// core/workers/migration/pool — the migration orders as a pool runs them: the `migrate_pool` message
// (protocol v2) on the worker's live connection, the target's own view of its workers (its signed
// forward-capacity answer lists the worker ids connected there), the cluster-wide switch
// `balancer.executor_enabled` over CELLULE_BALANCER_EXECUTOR_ENABLED, and the executor loop.
import type { AuditEntry } from "../../audit/record.ts"
import type { Clock } from "../../clock.ts"
import type { Config } from "../../config/index.ts"
import type { Sql } from "../../db/client.ts"
import type { Federation } from "../../federation/index.ts"
import { getPeer, trustedPeers } from "../../federation/peers.ts"
import { signedFetch } from "../../federation/transport.ts"
import { logger } from "../../log.ts"
import type { Scheduler } from "../../scheduler/scheduler.ts"
import { CAPACITY_PATH, type Forwarder } from "../../scheduler/forward.ts"
import type { MigratePoolMessage } from "../protocol.ts"
import { LatencyRouter } from "./latency.ts"
import { pinnedWorkers } from "./pins.ts"
import { orderPayload } from "../../federation/kinds/migration-order.ts"
import { MigrationOrders, startExecutor, type MigrationOrder, type MigrationSettings } from "./orders.ts"

const log = logger("migration")

/** The cluster-wide switch (replicated kind "setting"); unset: CELLULE_BALANCER_EXECUTOR_ENABLED. */
export const EXECUTOR_SETTING = "balancer.executor_enabled"
/** How long a migrating worker lets its jobs in flight finish before it leaves (issue 17: ≤ 60 s). */
export const MIGRATE_DRAIN_MS = 60_000

export interface PoolMigrationDeps {
  sql: Sql
  clock: Clock
  config: Readonly<Config>
  federation: Federation
  scheduler: Scheduler
  audit: { record(entry: AuditEntry): Promise<unknown> }
  /** Jobs left queued here when the move ends go to a peer through it (the target among them). */
  forwarder?: Forwarder
}

/** Whether orders run by themselves: the cluster-wide setting when an admin set it, else the pool's configuration. */
export async function executorEnabled(sql: Sql, config: Readonly<Config>): Promise<boolean> {
  const [row] = await sql<{ value: unknown }[]>`select value from cluster_settings where key = ${EXECUTOR_SETTING}`
  return typeof row?.value === "boolean" ? row.value : config.migrationExecutorEnabled
}

export function poolMigrations(d: PoolMigrationDeps): MigrationOrders {
  const { sql, config, federation, scheduler } = d
  const warned = new Set<string>()
  // The models each draining worker carries: held in the scheduler (requests queue, not fail) until the move ends.
  const transit = new Map<string, string[]>()
  const ended = (o: MigrationOrder) => {
    const models = transit.get(o.id)
    if (!models) return
    transit.delete(o.id)
    d.forwarder?.forget()
    scheduler.releaseModels(models)
  }
  const settings = async (): Promise<MigrationSettings> => ({
    executorEnabled: await executorEnabled(sql, config),
    timeoutMs: config.migrationTimeoutMs,
    cooldownMs: config.migrationCooldownMs,
  })
  return new MigrationOrders({
    sql,
    clock: d.clock,
    identity: federation.identity,
    audit: d.audit,
    settings,
    async sendMigrate(o: MigrationOrder) {
      const w = scheduler.workers.get(o.worker_id)
      if (!w) return false
      if (w.protocol < 2) {
        // A v1 worker cannot be told to move: the order waits (and is rolled back by nobody) until it upgrades.
        if (!warned.has(o.id)) log.warn(`worker ${w.name} speaks protocol v${w.protocol}: order ${o.id} waits`)
        warned.add(o.id)
        return false
      }
      const peer = await getPeer(sql, o.target_pool)
      if (!peer || peer.revoked_at || !peer.url || peer.trust_level < config.minTrustLevel) {
        if (!warned.has(o.id)) log.warn(`order ${o.id}: target pool ${o.target_pool} is not a trusted peer; it waits`)
        warned.add(o.id)
        return false
      }
      scheduler.setDraining(w.id, true)
      const models = [...w.models.keys()]
      scheduler.holdModels(models)
      transit.set(o.id, models)
      const msg: MigratePoolMessage = {
        type: "migrate_pool",
        order_id: o.id,
        target_pool: o.target_pool,
        target_url: peer.url,
        drain_ms: MIGRATE_DRAIN_MS,
        // The worker comes back before the source rolls the order back, so it never sits between pools.
        give_up_ms: Math.max(1000, Math.floor(config.migrationTimeoutMs / 2)),
      }
      try {
        w.link.send(msg)
      } catch (e) {
        scheduler.setDraining(w.id, false)
        ended(o)
        log.warn(`order ${o.id}: sending migrate_pool to ${w.name} failed: ${(e as Error).message}`)
        return false
      }
      return true
    },
    async onTarget(o: MigrationOrder) {
      const peer = await getPeer(sql, o.target_pool)
      if (!peer?.url) return false
      const res = await signedFetch<{ worker_ids?: string[] }>(
        federation.identity,
        peer.url,
        `${CAPACITY_PATH}?worker_id=${encodeURIComponent(o.worker_id)}`,
        {
          now: d.clock.now(),
          timeoutMs: 2000,
        },
      )
      return !!res.worker_ids?.includes(o.worker_id)
    },
    cancelMigrate(o: MigrationOrder) {
      // Still (or again) connected here: it takes jobs again.
      scheduler.setDraining(o.worker_id, false)
      ended(o)
    },
    completed: ended,
    publish: (o) => federation.publish("migration_order", orderPayload(o, federation.identity.pubkey)),
  })
}

/** The executor of a running pool: one pass every CELLULE_MIGRATION_EXECUTOR_MS. */
export function startPoolExecutor(orders: MigrationOrders, config: Readonly<Config>) {
  return startExecutor(orders, config.migrationExecutorMs)
}

/** §4.8 switch (replicated kind "setting"); unset: CELLULE_WORKERS_AUTO_LATENCY_ROUTING. */
export const LATENCY_SETTING = "workers.auto_latency_routing"

/**
 * Latency routing on a running pool: the router the worker hub feeds (hello, probe rounds), and whether it
 * is on now (read from the cluster setting every few seconds, so the welcome can ask workers to probe).
 */
export function poolLatencyRouting(
  d: Pick<PoolMigrationDeps, "sql" | "clock" | "config" | "federation">,
  orders: MigrationOrders,
) {
  const { sql, config, federation } = d
  let on = config.workersAutoLatencyRouting
  const refresh = async () => {
    const [row] = await sql<{ value: unknown }[]>`select value from cluster_settings where key = ${LATENCY_SETTING}`
    on = typeof row?.value === "boolean" ? row.value : config.workersAutoLatencyRouting
    return on
  }
  const timer = setInterval(() => void refresh().catch(() => {}), 5000)
  timer.unref?.()
  const router = new LatencyRouter({
    now: () => d.clock.now(),
    enabled: () => refresh().catch(() => on),
    settings: () => ({
      stableObservations: config.latencyStableObservations,
      minGainMs: config.latencyMinGainMs,
      cooldownMs: config.migrationCooldownMs,
    }),
    self: () => ({ atom_id: federation.identity.atomId, url: federation.url }),
    peers: async () =>
      (await trustedPeers(sql, config.minTrustLevel))
        .filter((p) => p.url && p.atom_id !== federation.identity.atomId)
        .map((p) => ({ atom_id: p.atom_id, url: p.url })),
    lastOrder: (id) => orders.lastFor(id),
    issue: (o) => orders.issue({ ...o, issued_by: "latency-routing" }),
    pinned: async (id) => (await pinnedWorkers(sql)).has(id),
  })
  return {
    router,
    /** welcome.latency_probe_ms: asked of workers only while routing is on. */
    probeMs: () => (on ? config.latencyProbeMs : undefined),
    start: () => refresh().catch(() => on),
    stop: () => clearInterval(timer),
  }
}
