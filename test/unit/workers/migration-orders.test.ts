// Worker migration orders in-process on a real embedded database, with a manual clock and an injected
// transport: signature and idempotence, the executor's states, approval when it is off, rollback after
// the timeout, hysteresis, and an audited transition for each step.
import { beforeAll, describe, expect, test } from "bun:test"
import { ManualClock } from "../../../core/clock.ts"
import type { AuditEntry } from "../../../core/audit/record.ts"
import { generateIdentity } from "../../../core/federation/identity.ts"
import {
  MigrationOrders,
  verifyOrder,
  type MigrationOrder,
  type MigrationSettings,
} from "../../../core/workers/migration/orders.ts"
import { testDatabase } from "../../support/db.ts"
import { migrationOrderReplica, orderPayload } from "../../../core/federation/kinds/migration-order.ts"

const ADMIN = { kind: "admin", id: "ops@test.local" } as const

// One database for the file (migrating one is slow); each test has its own pool identity, so its
// executor sees only its own orders.
let db: Awaited<ReturnType<typeof testDatabase>>
beforeAll(async () => {
  db = await testDatabase()
}, 180_000)

// Worker ids are unique per test (the database is shared).
let sfx = ""
const w = (name: string) => `${name}-${sfx}`

async function setup(settings: Partial<MigrationSettings> = {}) {
  sfx = crypto.randomUUID().slice(0, 8)
  const clock = new ManualClock()
  const identity = generateIdentity()
  const audited: AuditEntry[] = []
  const sent: string[] = []
  const cancelled: string[] = []
  const onTarget = new Set<string>()
  const connected = new Set<string>([w("worker-a")])
  const published: string[] = []
  const s: MigrationSettings = { executorEnabled: true, timeoutMs: 90_000, cooldownMs: 600_000, ...settings }
  const orders = new MigrationOrders({
    sql: db.sql,
    clock,
    identity,
    audit: { record: async (e) => void audited.push(e) },
    settings: () => s,
    sendMigrate: (o) => connected.has(o.worker_id) && (sent.push(o.id), true),
    onTarget: async (o) => onTarget.has(o.worker_id),
    cancelMigrate: (o) => void cancelled.push(o.id),
    publish: async (o) => void published.push(`${o.id}:${o.state}`),
  })
  return { orders, clock, identity, audited, sent, cancelled, onTarget, connected, s, published }
}

const issueTo = (orders: MigrationOrders, target = "atom_b", worker = w("worker-a")) =>
  orders.issue({ worker_id: worker, target_pool: target, reason: "manual", issued_by: ADMIN.id, actor: ADMIN })

describe("migration orders", () => {
  test("an order is signed by the issuing pool and idempotent on its id", async () => {
    const { orders, identity } = await setup()
    const id = crypto.randomUUID()
    const o = await orders.issue({
      id,
      worker_id: w("worker-a"),
      target_pool: "atom_b",
      reason: "manual",
      issued_by: "x",
    })
    expect(o).toMatchObject({ id, state: "issued", source_pool: identity.atomId, target_pool: "atom_b" })
    expect(verifyOrder(o, identity.pubkey)).toBe(true)
    expect(verifyOrder({ ...o, target_pool: "atom_c" }, identity.pubkey)).toBe(false)
    expect(verifyOrder(o, generateIdentity().pubkey)).toBe(false)
    const again = await orders.issue({
      id,
      worker_id: w("worker-a"),
      target_pool: "atom_b",
      reason: "manual",
      issued_by: "x",
    })
    expect(again.id).toBe(id)
    expect((await orders.list()).filter((x) => x.id === id).length).toBe(1)
  })

  test("executor on: issued → draining (worker told) → completed when the target reports the worker", async () => {
    const { orders, sent, onTarget, audited } = await setup()
    const o = await issueTo(orders)
    expect((await orders.tick()).map((x) => x.state)).toEqual(["draining"])
    expect(sent).toEqual([o.id])
    expect(await orders.tick()).toEqual([]) // still draining, target has not seen it
    onTarget.add(w("worker-a"))
    expect((await orders.tick()).map((x) => x.state)).toEqual(["completed"])
    expect((await orders.get(o.id)).finished_at).not.toBeNull()
    expect(audited.map((e) => e.action)).toEqual(["migration.issue", "migration.drain", "migration.complete"])
  })

  test("a worker not connected here stays issued until it is", async () => {
    const { orders, connected } = await setup()
    const o = await issueTo(orders, "atom_b", w("worker-z"))
    expect(await orders.tick()).toEqual([])
    connected.add(w("worker-z"))
    expect((await orders.tick()).map((x) => x.id)).toEqual([o.id])
  })

  test("a target that never reports the worker → rolled_back after the timeout, the worker told to stay", async () => {
    const { orders, clock, cancelled, audited } = await setup({ timeoutMs: 90_000 })
    const o = await issueTo(orders, "atom_dead")
    await orders.tick()
    clock.advance(89_999)
    expect(await orders.tick()).toEqual([])
    clock.advance(1)
    expect((await orders.tick()).map((x) => x.state)).toEqual(["rolled_back"])
    expect(cancelled).toEqual([o.id])
    expect(audited.at(-1)).toMatchObject({ action: "migration.rollback", outcome: "failure" })
    // A rolled-back worker may get a new order at once (it never moved).
    expect((await issueTo(orders, "atom_c")).state).toBe("issued")
  })

  test("executor off: orders wait; an approved one runs, a rejected one never does", async () => {
    const { orders, sent } = await setup({ executorEnabled: false })
    const a = await issueTo(orders, "atom_b", w("worker-a"))
    const b = await issueTo(orders, "atom_b", w("worker-b"))
    expect(await orders.tick()).toEqual([])
    expect((await orders.get(a.id)).state).toBe("issued")
    await orders.approve(a.id, ADMIN)
    await orders.reject(b.id, ADMIN)
    expect((await orders.tick()).map((x: MigrationOrder) => x.id)).toEqual([a.id])
    expect(sent).toEqual([a.id])
    expect((await orders.get(b.id)).state).toBe("rejected")
    await expect(orders.approve(b.id, ADMIN)).rejects.toMatchObject({ code: "migration_order_state", status: 409 })
    await expect(orders.reject(a.id, ADMIN)).rejects.toMatchObject({ code: "migration_order_state", status: 409 })
    await expect(orders.approve(crypto.randomUUID(), ADMIN)).rejects.toMatchObject({ status: 404 })
  })

  test("hysteresis: no second order while one is open, nor within the cool-down after a move", async () => {
    const { orders, clock, onTarget } = await setup({ cooldownMs: 600_000 })
    await issueTo(orders)
    await expect(issueTo(orders, "atom_c")).rejects.toMatchObject({ code: "migration_in_progress", status: 409 })
    await orders.tick()
    onTarget.add(w("worker-a"))
    await orders.tick()
    clock.advance(599_000)
    await expect(issueTo(orders, "atom_c")).rejects.toMatchObject({ code: "worker_recently_moved", status: 409 })
    clock.advance(1_001)
    expect((await issueTo(orders, "atom_c")).state).toBe("issued")
  })

  test("an order to this very pool is refused", async () => {
    const { orders, identity } = await setup()
    await expect(issueTo(orders, identity.atomId)).rejects.toMatchObject({ code: "migration_same_pool" })
  })
})

// Replication (kind "migration_order"): every pool's balancing page shows every order; only the issuer decides.
describe("migration orders replicate", () => {
  test("every transition is published as the whole order", async () => {
    const { orders, onTarget, published } = await setup()
    const o = await issueTo(orders)
    await orders.tick()
    onTarget.add(o.worker_id)
    await orders.tick()
    expect(published).toEqual([`${o.id}:issued`, `${o.id}:draining`, `${o.id}:completed`])
  })

  test("parse verifies the issuer's signature and that the key is the source pool's", async () => {
    const { orders, identity } = await setup()
    const o = await issueTo(orders)
    const p = orderPayload(o, identity.pubkey)
    expect(migrationOrderReplica.parse(JSON.parse(JSON.stringify(p))).id).toBe(o.id)
    expect(() => migrationOrderReplica.parse({ ...p, target_pool: "atom_c" })).toThrow(/signature/)
    const other = generateIdentity()
    expect(() => migrationOrderReplica.parse({ ...p, source_pubkey: other.pubkey })).toThrow(/source pool/)
    expect(() => migrationOrderReplica.parse({ ...p, state: "teleported" })).toThrow(/state/)
  })

  test("apply: idempotent on id, states only move forward, only the source's envelopes count", async () => {
    const { orders, identity } = await setup()
    const o = await issueTo(orders)
    await db.sql`delete from worker_migration_orders where id = ${o.id}` // as on a pool that never saw it
    const p = migrationOrderReplica.parse(orderPayload(o, identity.pubkey))
    const from = (hlc: string, origin = identity.atomId) => ({ hlc, origin })
    const stateOf = async () => (await orders.get(o.id)).state
    expect(await migrationOrderReplica.apply(db.sql, p, from("0000000001"))).toBe(true)
    expect(await migrationOrderReplica.apply(db.sql, p, from("0000000001"))).toBe(false) // the same envelope again
    expect(await stateOf()).toBe("issued")
    const done = { ...p, state: "completed" as const, finished_at: new Date().toISOString() }
    expect(await migrationOrderReplica.apply(db.sql, done, from("0000000003"))).toBe(true)
    expect(await stateOf()).toBe("completed")
    // a late draining envelope (even with a later stamp) never brings it back
    await migrationOrderReplica.apply(db.sql, { ...p, state: "draining" }, from("0000000004"))
    expect(await stateOf()).toBe("completed")
    // another pool cannot publish this pool's order
    const other = generateIdentity()
    expect(
      await migrationOrderReplica.apply(db.sql, { ...p, id: crypto.randomUUID() }, from("0000000009", other.atomId)),
    ).toBe(false)
  })

  test("an order issued elsewhere is read-only here: approve and reject answer 409", async () => {
    const mine = await setup({ executorEnabled: false })
    const o = await issueTo(mine.orders)
    const elsewhere = await setup({ executorEnabled: false })
    await expect(elsewhere.orders.approve(o.id, ADMIN)).rejects.toMatchObject({
      code: "migration_order_not_ours",
      status: 409,
    })
    await expect(elsewhere.orders.reject(o.id, ADMIN)).rejects.toMatchObject({ code: "migration_order_not_ours" })
    // and it stays out of that pool's executor, yet counts in the cluster-wide cool-down
    expect(await elsewhere.orders.tick()).toEqual([])
    const cooling = await elsewhere.orders.cooling()
    expect(cooling.workers.has(o.worker_id)).toBe(true)
    expect(cooling.openHere).toBe(0)
    expect((await mine.orders.cooling()).openHere).toBeGreaterThanOrEqual(1)
  })
})
