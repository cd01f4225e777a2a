// core/workers/migration/balancer-loop — the balancer as a pool runs it (issue 17, licence feature
// `balancer`): every CELLULE_BALANCER_INTERVAL_MS, gather what planMoves() needs (this pool's load and
// its workers, the trusted peers' advertised load, headcount per serving pool, pins, the cluster's
// open and recent orders) and issue the planned orders through the same MigrationOrders the manual
// moves use. A pool without the `balancer` feature issues nothing (manual moves still work).
import type { Sql } from "../../db/client.ts"
import { headcountByPool } from "../../federation/admin-queries.ts"
import { CelluleError } from "../../errors.ts"
import { logger } from "../../log.ts"
import type { Scheduler } from "../../scheduler/scheduler.ts"
import { capacityOf, type Forwarder, type ModelCapacity } from "../../scheduler/forward.ts"
import { planMoves, type OwnWorker, type PoolLoad } from "./balancer.ts"
import type { MigrationOrder, MigrationOrders } from "./orders.ts"
import { pinnedWorkers } from "./pins.ts"

const log = logger("balancer")

export interface BalancerDeps {
  sql: Sql
  scheduler: Scheduler
  forwarder?: Forwarder
  orders: MigrationOrders
  /** Throws (feature_not_licensed, licence lapsed) when the balancer may not run. */
  licensed(): Promise<void>
}

const toModels = (caps: ModelCapacity[]): PoolLoad["models"] =>
  Object.fromEntries(
    caps.filter((c) => c.kind === "llm").map((c) => [c.id, { slots: c.slots, busy: c.busy, queued: c.queued }]),
  )

/** One balancer pass: the orders it issued (none when unlicensed, quiet, or balanced). */
export async function balanceOnce(d: BalancerDeps): Promise<MigrationOrder[]> {
  try {
    await d.licensed()
  } catch (e) {
    log.debug(`balancer idle: ${(e as Error).message}`)
    return []
  }
  if (!d.forwarder) return []
  const self = d.orders.self
  const [peers, headcounts, pins, cooling] = await Promise.all([
    d.forwarder.peerCapacities(),
    headcountByPool(d.sql),
    pinnedWorkers(d.sql),
    d.orders.cooling(),
  ])
  const hc = new Map(headcounts.map((h) => [h.pool, h.headcount]))
  const workers: OwnWorker[] = [...d.scheduler.workers.values()].map((w) => ({
    id: w.id,
    models: [...w.models.values()].filter((m) => m.offer.kind === "llm").map((m) => m.offer.id),
    slots: Math.max(0, ...[...w.models.values()].map((m) => m.offer.slots)),
    busy: w.jobs.size,
    hardwareClass: w.hardwareClass,
    pinned: pins.has(w.id),
    cooling: cooling.workers.has(w.id) || !!w.draining || w.protocol < 2,
  }))
  const moves = planMoves({
    self: { pool: self, models: toModels(capacityOf(d.scheduler)), headcount: hc.get(self) ?? 0 },
    peers: peers.map((p) => ({ pool: p.pool, models: toModels(p.models), headcount: hc.get(p.pool) ?? 0 })),
    workers,
    openOrders: cooling.openHere,
  })
  const issued: MigrationOrder[] = []
  for (const m of moves) {
    try {
      issued.push(
        await d.orders.issue({
          worker_id: m.worker_id,
          target_pool: m.target_pool,
          reason: m.reason,
          issued_by: "balancer",
        }),
      )
    } catch (e) {
      if (!(e instanceof CelluleError)) throw e
      log.info(`balancer: no order for worker ${m.worker_id}: ${e.message}`)
    }
  }
  return issued
}

/** The loop; `every` is CELLULE_BALANCER_INTERVAL_MS (0: no loop). */
export function startBalancer(d: BalancerDeps, every: number): { stop(): void } {
  if (every <= 0) return { stop() {} }
  let running = false
  const timer = setInterval(() => {
    if (running) return
    running = true
    balanceOnce(d)
      .catch((e) => log.warn(`balancer pass failed: ${(e as Error).message}`))
      .finally(() => (running = false))
  }, every)
  timer.unref?.()
  return { stop: () => clearInterval(timer) }
}
