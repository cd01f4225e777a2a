// Adding administrators through POST /v1/admin/admins, in-process with a real (embedded) database:
// the licence's max_users limit (402 limit_reached), reads never blocked.
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { ManualClock } from "../../../core/clock.ts"
import { loadConfig } from "../../../core/config/index.ts"
import { createAdmin, createSession } from "../../../core/auth/admins.ts"
import type { Database } from "../../../core/db/client.ts"
import { buildApp, handle, withHooks } from "../../../core/http/app.ts"
import { poolServices } from "../../../core/pool/services.ts"
import { SESSION_COOKIE } from "../../../core/http/guards.ts"
import { adminRoutes } from "../../../core/http/routes/admins.ts"
import { licenseRoutes } from "../../../core/http/routes/license.ts"
import { generateKeyPair, issueLicense, LicenseStore, toHex } from "../../../core/license/index.ts"
import { testDatabase } from "../../support/db.ts"
import { cleanupAll } from "../../support/proc.ts"

const clock = new ManualClock(Date.UTC(2026, 0, 1))
let db: Database
let app: ReturnType<typeof buildApp>
let privateKey: Uint8Array
let adminId: number

beforeAll(async () => {
  db = await testDatabase()
  const kp = await generateKeyPair()
  privateKey = kp.privateKey
  adminId = (await createAdmin(db.sql, "first@corp.local", "correct horse battery")).id
  const store = new LicenseStore(db.sql, { clock, pubkeyHex: toHex(kp.publicKey) })
  const ctx = poolServices({ config: loadConfig("pool", {}, {}), db, clock, license: store })
  app = buildApp(ctx, withHooks(licenseRoutes, adminRoutes))
})
afterAll(cleanupAll)

async function call(method: string, path: string, body?: unknown) {
  const s = await createSession(db.sql, adminId, clock)
  const headers: Record<string, string> = { cookie: `${SESSION_COOKIE}=${s.token}`, "x-csrf-token": s.csrf }
  if (body !== undefined) headers["content-type"] = "application/json"
  const r = await handle(
    app,
    new Request(`http://localhost${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    }),
  )
  const text = await r.text()
  return { status: r.status, body: text ? JSON.parse(text) : null }
}

const add = (email: string) => call("POST", "/v1/admin/admins", { email, password: "a long enough password" })

describe("POST /v1/admin/admins and the licence's max_users", () => {
  test("without a licence (evaluation mode) admins are added; a duplicate is 409", async () => {
    const r = await add("second@corp.local")
    expect(r.status).toBe(201)
    expect(r.body).toMatchObject({ email: "second@corp.local" })
    expect((await add("Second@corp.local")).body.error).toBe("admin_exists")
  })

  test("with max_users 3: the third admin is added, the fourth is 402 limit_reached; listing still works", async () => {
    const { token } = await issueLicense(
      { clientId: "cluster-example-001", tier: "cabinet", limits: { max_users: 3 } },
      privateKey,
      { clock },
    )
    expect((await call("POST", "/v1/admin/license/upload", { token })).status).toBe(200)
    expect((await add("third@corp.local")).status).toBe(201)
    const refused = await add("fourth@corp.local")
    expect(refused.status).toBe(402)
    expect(refused.body.error).toBe("limit_reached:max_users=3>=3")
    const list = await call("GET", "/v1/admin/admins")
    expect(list.status).toBe(200)
    expect(list.body.data.map((a: { email: string }) => a.email)).toEqual([
      "first@corp.local",
      "second@corp.local",
      "third@corp.local",
    ])
  })

  test("two concurrent adds for the last seat: exactly one is created", async () => {
    await db.sql`delete from admin_users where email = 'third@corp.local'`
    const [a, b] = await Promise.all([add("race-a@corp.local"), add("race-b@corp.local")])
    expect([a.status, b.status].sort()).toEqual([201, 402])
    expect((await call("GET", "/v1/admin/admins")).body.data.length).toBe(3)
  })
})
