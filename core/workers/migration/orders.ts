// core/workers/migration/orders — worker migration orders (admin guide §4.6.1–4.6.2): one signed row
// per move of a worker from this (issuing) pool to a target pool, and the executor that walks them
// issued → draining → completed, or rolled_back when the target never reports the worker in time.
// With the executor off an order waits in `issued` until an admin approves (then it runs) or rejects it.
// Hysteresis: a worker with an open order, or moved within the cool-down, gets no new order.
// Every transition is audited and logged. The transport (the `migrate_pool` message to the worker,
// the target's worker view) is injected, so this module holds no socket and no HTTP.
import { randomUUID } from "node:crypto"
import type { AuditEntry, Actor } from "../../audit/record.ts"
import { SYSTEM } from "../../audit/record.ts"
import type { Clock } from "../../clock.ts"
import type { Sql } from "../../db/client.ts"
import { Conflict, NotFound } from "../../errors.ts"
import { canonical } from "../../federation/envelope.ts"
import type { Identity } from "../../federation/identity.ts"
import { verifySig } from "../../federation/identity.ts"
import { logger } from "../../log.ts"

const log = logger("migration")

export type OrderState = "issued" | "draining" | "completed" | "rolled_back" | "rejected"

export interface MigrationOrder {
  id: string
  worker_id: string
  source_pool: string
  target_pool: string
  reason: string
  state: OrderState
  issued_by: string
  issued_at: Date
  approved_at: Date | null
  approved_by: string | null
  draining_at: Date | null
  finished_at: Date | null
  signature: string
}

export interface MigrationSettings {
  /** Off: orders wait in `issued` until an admin approves them. */
  executorEnabled: boolean
  /** A draining order whose target has not reported the worker after this long is rolled back. */
  timeoutMs: number
  /** A worker moved (or being moved) within this long gets no new order. */
  cooldownMs: number
}

export interface MigrationDeps {
  sql: Sql
  clock: Clock
  identity: Identity
  audit: { record(entry: AuditEntry): Promise<unknown> }
  settings: () => MigrationSettings | Promise<MigrationSettings>
  /** Send the worker `migrate_pool` toward the target; false when it is not connected here (stays issued). */
  sendMigrate(order: MigrationOrder): boolean | Promise<boolean>
  /** Whether the target pool reports the worker connected (federation worker views, or the worker's confirmation). */
  onTarget(order: MigrationOrder): Promise<boolean>
  /** Tell the worker to stay (after a rollback); best effort. */
  cancelMigrate?(order: MigrationOrder): void
  /** The target reported the worker: the order is completed. */
  completed?(order: MigrationOrder): void
  /** Replicate the order as it stands now (federation kind "migration_order"); after every transition. */
  publish?(order: MigrationOrder): Promise<unknown>
}

/** The bytes the issuing pool signs: everything that decides the move, nothing that changes with state. */
export function orderSigningBytes(
  o: Pick<MigrationOrder, "id" | "worker_id" | "source_pool" | "target_pool" | "reason" | "issued_by" | "issued_at">,
) {
  return new TextEncoder().encode(
    canonical({
      id: o.id,
      worker_id: o.worker_id,
      source_pool: o.source_pool,
      target_pool: o.target_pool,
      reason: o.reason,
      issued_by: o.issued_by,
      issued_at: new Date(o.issued_at).toISOString(),
    }),
  )
}

/** Whether `pubkey` (the issuing pool's) signed this order. */
export function verifyOrder(o: MigrationOrder, pubkey: string): boolean {
  return verifySig(pubkey, orderSigningBytes(o), o.signature)
}

const OPEN: OrderState[] = ["issued", "draining"]

export class MigrationOrders {
  constructor(private readonly d: MigrationDeps) {}

  /**
   * Issue an order (manual move or balancer). Idempotent on `id`: the same id again returns the stored
   * row. Refused (409) while the worker has an open order, or was moved within the cool-down.
   */
  async issue(input: {
    worker_id: string
    target_pool: string
    reason: string
    issued_by: string
    id?: string
    actor?: Actor
  }): Promise<MigrationOrder> {
    const { sql, clock, identity } = this.d
    if (input.id) {
      const existing = await this.get(input.id).catch(() => null)
      if (existing) return existing
    }
    if (input.target_pool === identity.atomId)
      throw new Conflict("the worker is already on this pool", "migration_same_pool")
    const cooldownMs = (await this.d.settings()).cooldownMs
    const since = new Date(clock.now() - cooldownMs)
    const [recent] = await sql<{ id: string; state: OrderState }[]>`
      select id, state from worker_migration_orders
      where worker_id = ${input.worker_id}
        and (state in ('issued', 'draining') or (state = 'completed' and finished_at > ${since}))
      limit 1`
    if (recent)
      throw recent.state === "completed"
        ? new Conflict(
            `worker ${input.worker_id} was moved less than ${Math.round(cooldownMs / 1000)} s ago`,
            "worker_recently_moved",
          )
        : new Conflict(`worker ${input.worker_id} already has an open order (${recent.id})`, "migration_in_progress")
    const base = {
      id: input.id ?? randomUUID(),
      worker_id: input.worker_id,
      source_pool: identity.atomId,
      target_pool: input.target_pool,
      reason: input.reason,
      issued_by: input.issued_by,
      issued_at: new Date(clock.now()),
    }
    const signature = identity.sign(orderSigningBytes(base))
    const [row] = await sql<MigrationOrder[]>`
      insert into worker_migration_orders ${sql({ ...base, state: "issued", signature })}
      on conflict (id) do nothing
      returning *`
    const order = row ?? (await this.get(base.id))
    await this.transitioned(order, "migration.issue", input.actor ?? SYSTEM)
    return order
  }

  /** The settings in force now (the executor switch, timeout, cool-down). */
  async settings(): Promise<MigrationSettings> {
    return this.d.settings()
  }

  /** This pool's federation id: the source of the orders it issues. */
  get self(): string {
    return this.d.identity.atomId
  }

  async get(id: string): Promise<MigrationOrder> {
    const [row] = await this.d.sql<MigrationOrder[]>`select * from worker_migration_orders where id = ${id}`
    if (!row) throw new NotFound(`no migration order ${id}`, "migration_order_not_found")
    return row
  }

  /** This pool's newest order for a worker (any state), if any: latency routing's one order per worker. */
  async lastFor(workerId: string): Promise<MigrationOrder | undefined> {
    const [row] = await this.d.sql<MigrationOrder[]>`
      select * from worker_migration_orders
      where worker_id = ${workerId} and source_pool = ${this.d.identity.atomId}
      order by issued_at desc limit 1`
    return row
  }

  /** State and history, newest first. */
  async list(limit = 200): Promise<MigrationOrder[]> {
    return this.d.sql<MigrationOrder[]>`
      select * from worker_migration_orders order by issued_at desc, id limit ${limit}`
  }

  /**
   * The workers that may not get a new order now: an open order anywhere in the cluster (orders
   * replicate), or a move completed within the cool-down (the hysteresis the balancer honours).
   */
  async cooling(): Promise<{ workers: Set<string>; openHere: number }> {
    const { sql, clock } = this.d
    const since = new Date(clock.now() - (await this.d.settings()).cooldownMs)
    const rows = await sql<{ worker_id: string; source_pool: string; state: OrderState }[]>`
      select worker_id, source_pool, state from worker_migration_orders
      where state in ('issued', 'draining') or (state = 'completed' and finished_at > ${since})`
    return {
      workers: new Set(rows.map((r) => r.worker_id)),
      openHere: rows.filter((r) => r.state !== "completed" && r.source_pool === this.self).length,
    }
  }

  /** Only the issuing pool decides on its orders (they replicate to every pool, read-only there). */
  private async mine(id: string): Promise<void> {
    const o = await this.get(id)
    if (o.source_pool !== this.self)
      throw new Conflict(
        `migration order ${id} was issued by pool ${o.source_pool}: approve or reject it there`,
        "migration_order_not_ours",
      )
  }

  /** Approve an order still `issued`: the executor runs it at its next pass, even when it is off. */
  async approve(id: string, actor: Actor): Promise<MigrationOrder> {
    await this.mine(id)
    const [row] = await this.d.sql<MigrationOrder[]>`
      update worker_migration_orders set approved_at = ${new Date(this.d.clock.now())}, approved_by = ${actor.id}
      where id = ${id} and state = 'issued' and approved_at is null
      returning *`
    if (!row) throw await this.notIn(id, "issued and not yet approved")
    await this.transitioned(row, "migration.approve", actor)
    return row
  }

  /** Reject an order still `issued`: it is never executed. */
  async reject(id: string, actor: Actor): Promise<MigrationOrder> {
    await this.mine(id)
    const row = await this.move(id, ["issued"], "rejected", { finished_at: new Date(this.d.clock.now()) })
    if (!row) throw await this.notIn(id, "issued")
    await this.transitioned(row, "migration.reject", actor)
    return row
  }

  /**
   * One executor pass: start the orders that may run (executor on, or approved), complete those the
   * target reports, roll back those past the timeout. Returns the orders it changed.
   */
  async tick(): Promise<MigrationOrder[]> {
    const { sql, clock } = this.d
    const settings = await this.d.settings()
    const now = clock.now()
    const changed: MigrationOrder[] = []
    const open = await sql<MigrationOrder[]>`
      select * from worker_migration_orders
      where state in ${sql(OPEN)} and source_pool = ${this.d.identity.atomId}
      order by issued_at`
    for (const o of open) {
      if (o.state === "issued") {
        if (!settings.executorEnabled && !o.approved_at) continue
        if (!(await Promise.resolve(this.d.sendMigrate(o)).catch(() => false))) continue // not connected here right now: try again next pass
        const row = await this.move(o.id, ["issued"], "draining", { draining_at: new Date(now) })
        if (row) {
          changed.push(row)
          await this.transitioned(row, "migration.drain", SYSTEM)
        }
      } else if (await this.d.onTarget(o).catch(() => false)) {
        const row = await this.move(o.id, ["draining"], "completed", { finished_at: new Date(clock.now()) })
        if (row) {
          changed.push(row)
          this.d.completed?.(row)
          await this.transitioned(row, "migration.complete", SYSTEM)
        }
      } else if (now - new Date(o.draining_at!).getTime() >= settings.timeoutMs) {
        const row = await this.move(o.id, ["draining"], "rolled_back", { finished_at: new Date(now) })
        if (row) {
          changed.push(row)
          this.d.cancelMigrate?.(row)
          await this.transitioned(row, "migration.rollback", SYSTEM, "failure")
        }
      }
    }
    return changed
  }

  private async move(
    id: string,
    from: OrderState[],
    to: OrderState,
    extra: Partial<Pick<MigrationOrder, "draining_at" | "finished_at">>,
  ): Promise<MigrationOrder | undefined> {
    const { sql } = this.d
    const [row] = await sql<MigrationOrder[]>`
      update worker_migration_orders set ${sql({ state: to, ...extra })}
      where id = ${id} and state in ${sql(from)}
      returning *`
    return row
  }

  private async notIn(id: string, wanted: string) {
    const o = await this.get(id)
    return new Conflict(
      `migration order ${id} is ${o.state}${o.approved_at ? " (approved)" : ""}, not ${wanted}`,
      "migration_order_state",
    )
  }

  private async transitioned(o: MigrationOrder, action: AuditEntry["action"], actor: Actor, outcome?: "failure") {
    log.info(
      `migration order ${o.id}: worker ${o.worker_id} ${o.source_pool} → ${o.target_pool} is ${o.state} (${action})`,
    )
    await this.d.audit.record({
      actor,
      action,
      outcome,
      target: `worker:${o.worker_id}`,
      details: { order: o.id, target_pool: o.target_pool, state: o.state, reason: o.reason },
    })
    // State-based: each envelope carries the whole order, so one lost publish is repaired by the next.
    await this.d.publish?.(o).catch((e) => log.warn(`order ${o.id}: replication failed: ${(e as Error).message}`))
  }
}

/** An executor loop over `orders.tick()`; `every` is CELLULE_MIGRATION_EXECUTOR_MS. */
export function startExecutor(orders: MigrationOrders, every: number): { stop(): void } {
  let running = false
  const timer = setInterval(() => {
    if (running) return
    running = true
    orders
      .tick()
      .catch((e) => log.warn(`migration executor pass failed: ${(e as Error).message}`))
      .finally(() => (running = false))
  }, every)
  return { stop: () => clearInterval(timer) }
}
