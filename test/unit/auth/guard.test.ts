// Admin resolution: sessions with CSRF, the trusted-network header, and what is refused.
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { Elysia } from "elysia"
import { testDatabase } from "../../support/db.ts"
import { cleanupAll } from "../../support/proc.ts"
import { createAdmin, createSession, authenticate } from "../../../core/auth/admins.ts"
import { resolveAdmin, adminGuard, SESSION_COOKIE } from "../../../core/http/guards.ts"
import { buildApp, handle, withHooks } from "../../../core/http/app.ts"
import { loadConfig } from "../../../core/config/index.ts"
import { ManualClock } from "../../../core/clock.ts"
import { poolServices, type PoolServices } from "../../../core/pool/services.ts"
import type { Database } from "../../../core/db/client.ts"

let db: Database
let ctx: PoolServices
const clock = new ManualClock()

beforeAll(async () => {
  db = await testDatabase()
  ctx = poolServices({ config: loadConfig("pool", {}, { CELLULE_TRUSTED_NETWORKS: "10.1.0.0/16" }), db, clock })
  await createAdmin(db.sql, "Admin@Example.local", "correct horse battery")
})
afterAll(cleanupAll)

const req = (method: string, headers: Record<string, string> = {}) =>
  new Request("http://localhost/v1/admin/x", { method, headers })

describe("admins", () => {
  test("passwords are stored as Argon2id and verified", async () => {
    const [row] = await db.sql`select password_hash from admin_users where email = 'admin@example.local'`
    expect(row.password_hash).toStartWith("$argon2id$")
    expect(await authenticate(db.sql, "admin@example.local", "correct horse battery")).toMatchObject({
      email: "admin@example.local",
    })
    expect(await authenticate(db.sql, "admin@example.local", "wrong password!!")).toBeNull()
    expect(await authenticate(db.sql, "nobody@example.local", "correct horse battery")).toBeNull()
  })

  test("short passwords and duplicate accounts are refused with codes", async () => {
    await expect(createAdmin(db.sql, "b@example.local", "short")).rejects.toMatchObject({ code: "password_too_short" })
    await expect(createAdmin(db.sql, "ADMIN@example.local", "another long password")).rejects.toMatchObject({
      code: "admin_exists",
    })
  })
})

describe("resolveAdmin", () => {
  test("a session cookie identifies the admin; mutations need the CSRF token", async () => {
    const s = await createSession(db.sql, 1, clock)
    const cookie = `${SESSION_COOKIE}=${s.token}`
    expect(await resolveAdmin(ctx, req("GET", { cookie }), "192.0.2.1")).toMatchObject({
      email: "admin@example.local",
      via: "session",
    })
    await expect(resolveAdmin(ctx, req("POST", { cookie }), "192.0.2.1")).rejects.toMatchObject({
      code: "csrf_invalid",
      status: 403,
    })
    await expect(
      resolveAdmin(ctx, req("POST", { cookie, "x-csrf-token": "forged" }), "192.0.2.1"),
    ).rejects.toMatchObject({ code: "csrf_invalid" })
    expect(await resolveAdmin(ctx, req("POST", { cookie, "x-csrf-token": s.csrf }), "192.0.2.1")).toMatchObject({
      via: "session",
    })
  })

  test("an expired session is nobody", async () => {
    const s = await createSession(db.sql, 1, clock)
    clock.advance(13 * 3600_000)
    expect(await resolveAdmin(ctx, req("GET", { cookie: `${SESSION_COOKIE}=${s.token}` }), "192.0.2.1")).toBeNull()
  })

  test.each([
    ["from a trusted network", "10.1.2.3", "admin@example.local", true],
    ["v4-mapped address in a trusted network", "::ffff:10.1.9.9", "admin@example.local", true],
    ["from outside the trusted networks", "192.0.2.1", "admin@example.local", false],
    ["naming an unknown admin", "10.1.2.3", "nobody@example.local", false],
  ])("X-Cellule-User %s", async (_n, ip, user, ok) => {
    const r = await resolveAdmin(ctx, req("POST", { "x-cellule-user": user }), ip)
    expect(r !== null).toBe(ok)
  })

  test("adminGuard answers 401 admin_auth_required without credentials", async () => {
    const app = buildApp(
      ctx,
      withHooks((c) => new Elysia().use(adminGuard(c)).get("/v1/admin/x", ({ admin }) => ({ email: admin.email }))),
    )
    const r = await handle(app, req("GET"))
    expect(r.status).toBe(401)
    expect(((await r.json()) as { error: string }).error).toBe("admin_auth_required")
  })
})
