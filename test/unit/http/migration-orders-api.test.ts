// /v1/admin/migration-orders over a real listening app and embedded database: admin only, manual move
// (201, signed, idempotent on id), the list, approve/reject with their 409s, and the cool-down refusal.
import { afterAll, beforeAll, expect, test } from "bun:test"
import { buildApp } from "../../../core/http/app.ts"
import { poolServices } from "../../../core/pool/services.ts"
import { loadConfig } from "../../../core/config/index.ts"
import { ManualClock } from "../../../core/clock.ts"
import { generateIdentity } from "../../../core/federation/identity.ts"
import { MigrationOrders, verifyOrder } from "../../../core/workers/migration/orders.ts"
import { testDatabase } from "../../support/db.ts"

const identity = generateIdentity()
let url = ""
let stop = () => {}

beforeAll(async () => {
  const db = await testDatabase()
  const clock = new ManualClock()
  const config = loadConfig("pool", {}, { CELLULE_TRUSTED_NETWORKS: "127.0.0.1/32" })
  const s = poolServices({ config, db, clock })
  const audit = { record: async () => null }
  s.migrations = new MigrationOrders({
    sql: db.sql,
    clock,
    identity,
    audit,
    settings: () => ({ executorEnabled: false, timeoutMs: 90_000, cooldownMs: 600_000 }),
    sendMigrate: () => true,
    onTarget: async () => false,
  })
  s.admins = { ...s.admins, byEmail: async (email: string) => (email === "ops@test.local" ? { email } : null) } as never
  const app = buildApp(s).listen({ port: 0, hostname: "127.0.0.1" })
  url = `http://127.0.0.1:${app.server!.port}`
  stop = () => void app.stop()
}, 180_000)
afterAll(() => stop())

const call = (method: string, path: string, body?: object, user: string | null = "ops@test.local") =>
  fetch(`${url}${path}`, {
    method,
    headers: { ...(body ? { "content-type": "application/json" } : {}), ...(user ? { "x-cellule-user": user } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  })

test("migration orders: admin only; manual move, list, approve, reject", async () => {
  expect((await call("GET", "/v1/admin/migration-orders", undefined, null)).status).toBe(401)
  const id = crypto.randomUUID()
  const r = await call("POST", "/v1/admin/migration-orders", { id, worker_id: "w-1", target_pool: "atom_b" })
  expect(r.status).toBe(201)
  const order = await r.json()
  expect(order).toMatchObject({ id, state: "issued", issued_by: "ops@test.local", source_pool: identity.atomId })
  expect(verifyOrder(order, identity.pubkey)).toBe(true)
  // Same id again: the same order, no second row.
  expect(
    (await (await call("POST", "/v1/admin/migration-orders", { id, worker_id: "w-1", target_pool: "atom_b" })).json())
      .id,
  ).toBe(id)
  // Another order for the same worker while this one is open: 409.
  const busy = await call("POST", "/v1/admin/migration-orders", { worker_id: "w-1", target_pool: "atom_c" })
  expect(busy.status).toBe(409)
  expect((await busy.json()).error).toBe("migration_in_progress")

  const other = await (
    await call("POST", "/v1/admin/migration-orders", { worker_id: "w-2", target_pool: "atom_b" })
  ).json()
  expect((await call("POST", `/v1/admin/migration-orders/${id}/approve`)).status).toBe(200)
  expect((await call("POST", `/v1/admin/migration-orders/${other.id}/reject`)).status).toBe(200)
  const again = await call("POST", `/v1/admin/migration-orders/${other.id}/approve`)
  expect(again.status).toBe(409)
  expect((await again.json()).error).toBe("migration_order_state")
  expect((await call("POST", `/v1/admin/migration-orders/${crypto.randomUUID()}/reject`)).status).toBe(404)

  const list = (await (await call("GET", "/v1/admin/migration-orders")).json()) as {
    data: { id: string; state: string; approved_at: string | null }[]
  }
  const byId = new Map(list.data.map((o) => [o.id, o]))
  expect(byId.get(id)!.approved_at).not.toBeNull()
  expect(byId.get(other.id)!.state).toBe("rejected")
}, 120_000)
