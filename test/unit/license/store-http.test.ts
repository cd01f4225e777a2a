// The licence at the HTTP edge, in-process with a ManualClock and a real (embedded) database:
// the global gate, requireFeature/requireLimit, the /v1/admin/license routes, enforce, and the token
// never coming back out.
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { Elysia } from "elysia"
import { ManualClock } from "../../../core/clock.ts"
import { loadConfig } from "../../../core/config/index.ts"
import { createAdmin, createSession } from "../../../core/auth/admins.ts"
import type { Database } from "../../../core/db/client.ts"
import { buildApp, handle, withHooks } from "../../../core/http/app.ts"
import { poolServices, type PoolServices } from "../../../core/pool/services.ts"
import { isExemptFromLicenseGate, requireFeature, requireLimit } from "../../../core/http/license-gate.ts"
import { licenseRoutes } from "../../../core/http/routes/license.ts"
import { SESSION_COOKIE } from "../../../core/http/guards.ts"
import {
  generateKeyPair,
  issueLicense,
  type License,
  LicenseStore,
  PLACEHOLDER_PUBKEY,
  parseRevocationList,
  signLicense,
  toHex,
} from "../../../core/license/index.ts"
import { testDatabase } from "../../support/db.ts"
import { cleanupAll } from "../../support/proc.ts"

const DAY = 86_400_000
const T0 = Date.UTC(2026, 0, 1)
const clock = new ManualClock(T0)
let db: Database
let pubHex: string
let privateKey: Uint8Array
let adminId: number
/** Every response body and header the tests saw: none may contain a token. */
const seen: string[] = []
const tokens: string[] = []

const testRoutes = (ctx: PoolServices) =>
  new Elysia()
    .get("/test/things", () => ({ things: [] }))
    .post("/test/things", () => ({ created: true }))
    .delete("/test/things", () => ({ deleted: true }))
    // Stands in for the real inference route: only its path matters to the gate.
    .post("/v1/embeddings", () => ({ data: [] }))
    .post("/test/rag", async () => (await requireFeature(ctx, "rag_documents"), { ok: true }))
    .post("/test/multi-site", async () => (await requireFeature(ctx, "multi_site"), { ok: true }))
    .post(
      "/test/pools/:current",
      async ({ params }) => (await requireLimit(ctx, "max_pools", Number(params.current)), { ok: true }),
    )
    .post(
      "/test/users/:current",
      async ({ params }) => (await requireLimit(ctx, "max_seats", Number(params.current)), { ok: true }),
    )

function appWith(store: LicenseStore) {
  const ctx = poolServices({ config: loadConfig("pool", {}, {}), db, clock, license: store })
  return buildApp(ctx, withHooks(licenseRoutes, testRoutes))
}

async function call(
  app: ReturnType<typeof buildApp>,
  method: string,
  path: string,
  body?: unknown,
  opts: { auth?: boolean } = {},
) {
  const headers: Record<string, string> = {}
  if (opts.auth !== false) {
    // A fresh session each time: the clock jumps by months between calls.
    const s = await createSession(db.sql, adminId, clock)
    headers.cookie = `${SESSION_COOKIE}=${s.token}`
    headers["x-csrf-token"] = s.csrf
  }
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
  r.headers.forEach((v, k) => {
    seen.push(`${k}: ${v}`)
  })
  seen.push(text)
  return { status: r.status, body: text ? JSON.parse(text) : null }
}

async function issue(
  over: { clientId?: string; tier?: string; durationDays?: number; graceDays?: number; features?: string[] } = {},
) {
  const { token } = await issueLicense(
    {
      clientId: over.clientId ?? "cluster-example-001",
      tier: over.tier ?? "cabinet",
      durationDays: over.durationDays,
      graceDays: over.graceDays,
      features: over.features,
    },
    privateKey,
    { clock },
  )
  tokens.push(token)
  return token
}

beforeAll(async () => {
  db = await testDatabase()
  const kp = await generateKeyPair()
  privateKey = kp.privateKey
  pubHex = toHex(kp.publicKey)
  adminId = (await createAdmin(db.sql, "admin@corp.local", "correct horse battery")).id
})
afterAll(async () => {
  // The raw token never comes back: not in bodies, not in headers, not even its signature part.
  expect(tokens.length).toBeGreaterThan(0)
  const all = seen.join("\n")
  for (const t of tokens.filter((t) => t.split(".")[2]?.length > 20)) {
    expect(all).not.toContain(t)
    expect(all).not.toContain(t.split(".")[2])
  }
  await cleanupAll()
})

async function reset() {
  await db.sql`update cluster_license set token = null, client_id = null, tier = null, expires_at = null, installed_at = null,
               installed_by = null, revoked = false, enforce = true where id = 1`
  clock.set(T0)
}

describe("evaluation mode (no licence)", () => {
  test("everything passes: mutations, features, limits", async () => {
    await reset()
    const app = appWith(new LicenseStore(db.sql, { clock, pubkeyHex: pubHex }))
    expect((await call(app, "GET", "/v1/admin/license")).body).toMatchObject({
      status: "none",
      enforce: true,
      client_id: null,
      days_remaining: null,
    })
    for (const path of ["/test/things", "/test/rag", "/test/multi-site", "/test/pools/1000"])
      expect((await call(app, "POST", path)).status).toBe(200)
  })

  test("the all-zero placeholder key boots in evaluation mode and refuses every upload as jwt_invalid", async () => {
    await reset()
    const store = new LicenseStore(db.sql, { clock, pubkeyHex: PLACEHOLDER_PUBKEY })
    expect(await store.load()).toMatchObject({ status: "none", pubkey: { source: "placeholder", placeholder: true } })
    const app = appWith(store)
    for (const token of [await issue(), await issue({ tier: "corporate" }), "not-a-token"]) {
      const r = await call(app, "POST", "/v1/admin/license/upload", { token })
      expect(r.status).toBe(400)
      expect(r.body.error).toBe("jwt_invalid")
    }
    expect((await call(app, "POST", "/v1/admin/license/upload", { token: await issue() })).body.message).toContain(
      "license pubkey not initialized",
    )
    expect((await call(app, "GET", "/v1/admin/license")).body.status).toBe("none")
    expect((await call(app, "POST", "/test/things")).status).toBe(200)
  })
})

describe("an installed cabinet licence", () => {
  test("upload → GET shows status, tier, client, features, limits, days_remaining — never the token", async () => {
    await reset()
    const app = appWith(new LicenseStore(db.sql, { clock, pubkeyHex: pubHex }))
    const token = await issue()
    const up = await call(app, "POST", "/v1/admin/license/upload", { token: `${token}\n` })
    expect(up.status).toBe(200)
    expect(up.body).toMatchObject({
      ok: true,
      status: "active",
      client_id: "cluster-example-001",
      tier: "cabinet",
      days_remaining: 365,
      installed_by: "admin@corp.local",
    })
    const got = await call(app, "GET", "/v1/admin/license")
    expect(got.body).toMatchObject({
      status: "active",
      enforce: true,
      client_id: "cluster-example-001",
      tier: "cabinet",
      features: ["rag_documents", "balancer", "smart_routing"],
      limits: { max_pools: 3, max_users: 50 },
      days_remaining: 365,
      expires_at: "2027-01-01T00:00:00.000Z",
    })
    expect(Object.keys(got.body)).not.toContain("token")
    // Stored so the next boot can verify it again.
    const [row] = await db.sql`select token, client_id, tier from cluster_license where id = 1`
    expect(row).toEqual({ token, client_id: "cluster-example-001", tier: "cabinet" })
  })

  test("403 feature_not_licensed on a missing feature; a licensed one passes", async () => {
    const app = appWith(new LicenseStore(db.sql, { clock, pubkeyHex: pubHex }))
    const r = await call(app, "POST", "/test/multi-site")
    expect(r.status).toBe(403)
    expect(r.body).toMatchObject({ error: "feature_not_licensed", feature: "multi_site" })
    expect((await call(app, "POST", "/test/rag")).status).toBe(200)
  })

  test.each([
    [2, 200, undefined],
    [3, 402, "limit_reached:max_pools=3>=3"],
    [7, 402, "limit_reached:max_pools=7>=3"],
  ])("max_pools=3 with %d in use → %d %p", async (current, status, code) => {
    const app = appWith(new LicenseStore(db.sql, { clock, pubkeyHex: pubHex }))
    const r = await call(app, "POST", `/test/pools/${current}`)
    expect(r.status).toBe(status)
    if (code) expect(r.body).toMatchObject({ error: code, limit: "max_pools", current, max: 3 })
  })

  test("a limit the licence does not declare is unlimited", async () => {
    const app = appWith(new LicenseStore(db.sql, { clock, pubkeyHex: pubHex }))
    expect((await call(app, "POST", "/test/users/1000000")).status).toBe(200)
  })
})

describe("the status over time (ManualClock, no sleeps)", () => {
  // Installed at T0: exp = T0 + 365 d, grace 30 d.
  const exp = T0 + 365 * DAY
  test.each([
    ["active", exp - 30 * DAY - 1, 200],
    ["warning_j30", exp - 30 * DAY, 200],
    ["warning_j30", exp - 1, 200],
    ["grace", exp, 200],
    ["grace", exp + 30 * DAY - 1, 200],
    ["expired", exp + 30 * DAY, 402],
    ["expired", exp + 3 * 365 * DAY, 402],
  ])("%s at %d: a mutation gets %d", async (status, at, code) => {
    await reset()
    const store = new LicenseStore(db.sql, { clock, pubkeyHex: pubHex })
    await store.install(await issue())
    clock.set(at)
    const app = appWith(store)
    expect((await call(app, "GET", "/v1/admin/license")).body.status).toBe(status)
    const r = await call(app, "POST", "/test/things")
    expect(r.status).toBe(code)
    if (code === 402) expect(r.body.error).toBe("license_expired")
  })

  test("expired: reads and inference pass, mutations and features get 402, the licence routes still work", async () => {
    await reset()
    const store = new LicenseStore(db.sql, { clock, pubkeyHex: pubHex })
    await store.install(await issue())
    clock.set(T0 + 400 * DAY)
    const app = appWith(store)
    expect((await call(app, "GET", "/test/things")).status).toBe(200)
    expect((await call(app, "HEAD", "/test/things")).status).toBe(200)
    expect((await call(app, "POST", "/v1/embeddings", { input: "x", model: "m" })).status).toBe(200)
    for (const [method, path] of [
      ["POST", "/test/things"],
      ["DELETE", "/test/things"],
      ["POST", "/test/rag"],
      ["POST", "/test/pools/0"],
    ] as const) {
      const r = await call(app, method, path)
      expect(r.status).toBe(402)
      expect(r.body.error).toBe("license_expired")
    }
    // 402 comes before authentication: an anonymous mutation is refused the same way.
    expect((await call(app, "POST", "/test/things", undefined, { auth: false })).status).toBe(402)
    // Renewal is a mutation on an exempt route: a fresh licence lifts the gate at once.
    const renewed = await call(app, "POST", "/v1/admin/license/upload", { token: await issue() })
    expect(renewed.body).toMatchObject({ ok: true, status: "active", days_remaining: 365 })
    expect((await call(app, "POST", "/test/things")).status).toBe(200)
  })

  test("enforce=false bypasses the gate, features and limits; enforce=true restores them", async () => {
    await reset()
    const store = new LicenseStore(db.sql, { clock, pubkeyHex: pubHex })
    await store.install(await issue())
    clock.set(T0 + 400 * DAY)
    const app = appWith(store)
    expect((await call(app, "POST", "/test/things")).status).toBe(402)
    const off = await call(app, "POST", "/v1/admin/license/enforce", { enabled: false })
    expect(off.body).toMatchObject({ ok: true, enforce: false, status: "expired" })
    for (const path of ["/test/things", "/test/rag", "/test/multi-site", "/test/pools/99"])
      expect((await call(app, "POST", path)).status).toBe(200)
    expect((await call(app, "POST", "/v1/admin/license/enforce", { enabled: true })).body.enforce).toBe(true)
    expect((await call(app, "POST", "/test/things")).status).toBe(402)
    expect((await call(app, "POST", "/v1/admin/license/enforce", { enabled: "no" })).body.error).toBe(
      "validation_failed",
    )
  })

  test("enforce=false set by hand in SQL (guide §7.6, last resort) is seen within the re-read interval", async () => {
    await reset()
    const store = new LicenseStore(db.sql, { clock, pubkeyHex: pubHex, refreshMs: 5_000 })
    await store.install(await issue())
    clock.set(T0 + 400 * DAY)
    const app = appWith(store)
    expect((await call(app, "POST", "/test/things")).status).toBe(402)
    await db.sql`update cluster_license set enforce = false where id = 1`
    clock.advance(5_001)
    expect((await call(app, "POST", "/test/things")).status).toBe(200)
  })
})

describe("revoked and invalid", () => {
  test("the DB revoked flag → 402 license_revoked whatever the dates; a new upload clears it", async () => {
    await reset()
    const store = new LicenseStore(db.sql, { clock, pubkeyHex: pubHex })
    await store.install(await issue())
    await db.sql`update cluster_license set revoked = true where id = 1`
    store.invalidate()
    const app = appWith(store)
    expect((await call(app, "GET", "/v1/admin/license")).body).toMatchObject({
      status: "revoked",
      revoked: true,
      client_id: "cluster-example-001",
    })
    expect((await call(app, "POST", "/test/things")).body.error).toBe("license_revoked")
    expect(
      (await call(app, "POST", "/v1/admin/license/upload", { token: await issue({ clientId: "cluster-example-002" }) }))
        .body.status,
    ).toBe("active")
    expect((await call(app, "POST", "/test/things")).status).toBe(200)
  })

  test("a client on the shipped list: upload refused as client_revoked; a stored one boots revoked", async () => {
    await reset()
    const list = parseRevocationList({
      _schema_version: 1,
      revoked: { "evil-corp-001": { reason: "security_incident", revoked_at: "2026-03-15" } },
    })
    const token = await issue({ clientId: "evil-corp-001" })
    const app = appWith(new LicenseStore(db.sql, { clock, pubkeyHex: pubHex, revoked: list }))
    const r = await call(app, "POST", "/v1/admin/license/upload", { token })
    expect(r).toMatchObject({ status: 400, body: { error: "client_revoked" } })
    // Installed by an older release, then a release revokes the client.
    await new LicenseStore(db.sql, { clock, pubkeyHex: pubHex }).install(token)
    const next = new LicenseStore(db.sql, { clock, pubkeyHex: pubHex, revoked: list })
    expect(await next.load()).toMatchObject({
      status: "revoked",
      client_id: "evil-corp-001",
      problem: { code: "client_revoked" },
    })
    expect((await call(appWith(next), "POST", "/test/things")).body.error).toBe("license_revoked")
  })

  test("a stored token that no longer verifies (new build key) → invalid: 402 license_invalid, reads pass, upload fixes it", async () => {
    await reset()
    await new LicenseStore(db.sql, { clock, pubkeyHex: pubHex }).install(await issue())
    const other = await generateKeyPair()
    const store = new LicenseStore(db.sql, { clock, pubkeyHex: toHex(other.publicKey) })
    expect(await store.load()).toMatchObject({
      status: "invalid",
      client_id: "cluster-example-001",
      problem: { code: "jwt_invalid" },
    })
    const app = appWith(store)
    expect((await call(app, "GET", "/test/things")).status).toBe(200)
    expect((await call(app, "POST", "/test/things")).body.error).toBe("license_invalid")
    const { token } = await issueLicense({ clientId: "cluster-example-001", tier: "cabinet" }, other.privateKey, {
      clock,
    })
    tokens.push(token)
    expect((await call(app, "POST", "/v1/admin/license/upload", { token })).body.status).toBe("active")
    expect((await call(app, "POST", "/test/things")).status).toBe(200)
  })
})

describe("upload refusals leave the installed licence alone", () => {
  test.each([
    ["a forged signature", async () => (await issue()).slice(0, -4) + "AAAA", "jwt_invalid"],
    ["alg none", async () => `${b64({ alg: "none", typ: "JWT" })}.${(await issue()).split(".")[1]}.`, "jwt_invalid"],
    [
      "a signed payload that breaks the schema",
      async () => signLicense({ ...claimsNow(), tier: "Bad Tier" } as License, privateKey),
      "license_malformed",
    ],
    [
      "a licence already past its grace window",
      async () =>
        signLicense(
          { ...claimsNow(), iat: nowS() - 400 * 86400, exp: nowS() - 31 * 86400, grace_days: 30 },
          privateKey,
        ),
      "license_expired",
    ],
    ["a token that is not a string", async () => 42 as unknown as string, "validation_failed"],
  ])("%s → 400 %s", async (_name, make, code) => {
    await reset()
    const store = new LicenseStore(db.sql, { clock, pubkeyHex: pubHex })
    await store.install(await issue({ clientId: "keep-me" }))
    const app = appWith(store)
    const token = await make()
    if (typeof token === "string") tokens.push(token)
    const r = await call(app, "POST", "/v1/admin/license/upload", { token })
    expect(r.status).toBe(400)
    expect(r.body.error).toBe(code)
    expect((await call(app, "GET", "/v1/admin/license")).body).toMatchObject({ status: "active", client_id: "keep-me" })
  })
})

describe("DELETE and auth", () => {
  test("DELETE returns to evaluation mode and keeps enforce", async () => {
    await reset()
    const store = new LicenseStore(db.sql, { clock, pubkeyHex: pubHex })
    await store.install(await issue())
    await store.setEnforce(false)
    const app = appWith(store)
    expect((await call(app, "DELETE", "/v1/admin/license")).body).toMatchObject({
      ok: true,
      status: "none",
      enforce: false,
      client_id: null,
    })
    const [row] = await db.sql`select token, enforce from cluster_license where id = 1`
    expect(row).toEqual({ token: null, enforce: false })
  })

  test.each([
    ["GET", "/v1/admin/license", undefined],
    ["POST", "/v1/admin/license/upload", { token: "x" }],
    ["DELETE", "/v1/admin/license", undefined],
    ["POST", "/v1/admin/license/enforce", { enabled: false }],
  ])("%s %s without an administrator → 401", async (method, path, body) => {
    await reset()
    const app = appWith(new LicenseStore(db.sql, { clock, pubkeyHex: pubHex }))
    const r = await call(app, method, path, body, { auth: false })
    expect(r.status).toBe(401)
    expect(r.body.error).toBe("admin_auth_required")
    expect((await db.sql`select enforce from cluster_license`)[0].enforce).toBe(true)
  })
})

describe("the exempt list", () => {
  test.each([
    ["POST", "/v1/federation/p2p/gossip", true],
    ["POST", "/v1/admin/workers/tokens/:id/revoke", true],
    ["POST", "/v1/federation/peers/:atom_id/revoke", true],
    ["DELETE", "/v1/admin/keys/:id", true],
    ["DELETE", "/v1/federation/peers/:atom_id", true],
    ["POST", "/v1/admin/keys", false],
    ["PUT", "/v1/admin/keys/:id", false],
    ["POST", "/v1/federation/admin/register", false],
    ["POST", "/v1/admin/projects", false],
  ])("%s %s exempt: %p", (method, path, exempt) => {
    expect(isExemptFromLicenseGate(path, method)).toBe(exempt)
  })

  test.each([
    ["/v1/chat/completions", true],
    ["/v1/completions", true],
    ["/v1/embeddings", true],
    ["/v1/admin/license", true],
    ["/v1/admin/license/upload", true],
    ["/v1/admin/license/enforce/", true],
    ["/admin/license", true],
    ["/setup", true],
    ["/setup/license", true],
    ["/admin/login", true],
    ["/logout", true],
    ["/v1/admin/licenses", false],
    ["/v1/chat/completions/x", false],
    ["/v1/admin/pools", false],
    ["/setupx", false],
    ["/v1/admin/login-as", false],
  ])("%s exempt: %p", (path, exempt) => {
    expect(isExemptFromLicenseGate(path)).toBe(exempt)
  })
})

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url")
const nowS = () => Math.floor(clock.now() / 1000)
const claimsNow = (): License => ({
  client_id: "c-1",
  tier: "cabinet",
  features: [],
  limits: {},
  iat: nowS(),
  exp: nowS() + 86400 * 100,
  grace_days: 0,
})
