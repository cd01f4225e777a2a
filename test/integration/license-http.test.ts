// The licence over real pool processes: the admin API round trip with X-Cellule-User from a trusted
// network, boot re-verification under another key, inference while the licence is invalid, the
// placeholder key, and a compiled binary built with --define CELLULE_LICENSE_PUBKEY.
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { join } from "node:path"
import { generateKeyPair, issueLicense, type KeyPair, toHex } from "../../core/license/index.ts"
import { tinyLlamaPath } from "../support/fixtures.ts"
import {
  BUN,
  cleanupAll,
  onCleanup,
  ROOT,
  spawnProc,
  startPool,
  startWorker,
  tempDir,
  TEST_ADMIN,
  testSetupAnswers,
} from "../support/proc.ts"

// Created by the headless first-boot setup that startPool runs (CELLULE_SETUP_ANSWERS).
const ADMIN = TEST_ADMIN.email
const WORKER_TOKEN = "licence-test-token-0123456789"
let keyA: KeyPair
let keyB: KeyPair
/** Every response text seen: no token may appear in any. */
const seen: string[] = []
const tokens: string[] = []

async function api(
  url: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = { "x-cellule-user": ADMIN },
) {
  const r = await fetch(`${url}${path}`, {
    method,
    headers: { ...headers, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const text = await r.text()
  r.headers.forEach((v, k) => {
    seen.push(`${k}: ${v}`)
  })
  seen.push(text)
  return { status: r.status, body: text ? JSON.parse(text) : null }
}

async function token(key: KeyPair, clientId = "cluster-example-001") {
  const t = (await issueLicense({ clientId, tier: "cabinet" }, key.privateKey)).token
  tokens.push(t)
  return t
}

const env = (pubkey: string | undefined, extra: Record<string, string> = {}) => ({
  CELLULE_LICENSE_PUBKEY: pubkey,
  CELLULE_TRUSTED_NETWORKS: "127.0.0.1/32",
  CELLULE_WORKER_TOKEN: WORKER_TOKEN,
  ...extra,
})

beforeAll(async () => {
  keyA = await generateKeyPair()
  keyB = await generateKeyPair()
})
afterAll(async () => {
  const all = seen.join("\n")
  expect(tokens.length).toBeGreaterThan(0)
  for (const t of tokens) {
    expect(all).not.toContain(t)
    expect(all).not.toContain(t.split(".")[2])
  }
  await cleanupAll()
})

describe("a source-mode pool with a test key", () => {
  test("upload → GET → enforce → DELETE round trip; the token never comes back; toggles are logged", async () => {
    const dataDir = tempDir("cellule-lic-")
    const pool = await startPool({ dataDir, env: env(toHex(keyA.publicKey)) })
    await pool.waitFor(/license boot: no license installed - dev opt-in mode active/)
    expect(pool.stderr()).toContain("license: public key from CELLULE_LICENSE_PUBKEY (source mode)")

    expect((await api(pool.url, "GET", "/v1/admin/license")).body).toMatchObject({ status: "none", enforce: true })
    expect((await api(pool.url, "GET", "/v1/admin/license", undefined, {})).status).toBe(401)
    expect(
      (await api(pool.url, "GET", "/v1/admin/license", undefined, { "x-cellule-user": "nobody@test.local" })).status,
    ).toBe(401)

    const up = await api(pool.url, "POST", "/v1/admin/license/upload", { token: await token(keyA) })
    expect(up).toMatchObject({
      status: 200,
      body: {
        ok: true,
        status: "active",
        client_id: "cluster-example-001",
        tier: "cabinet",
        days_remaining: 365,
        installed_by: ADMIN,
      },
    })
    const got = await api(pool.url, "GET", "/v1/admin/license")
    expect(got.body).toMatchObject({
      status: "active",
      features: ["rag_documents", "balancer", "smart_routing"],
      limits: { max_pools: 3, max_users: 50 },
    })
    expect(got.body.token).toBeUndefined()

    expect((await api(pool.url, "POST", "/v1/admin/license/upload", { token: await token(keyB) })).body.error).toBe(
      "jwt_invalid",
    )

    expect((await api(pool.url, "POST", "/v1/admin/license/enforce", { enabled: false })).body).toMatchObject({
      ok: true,
      enforce: false,
    })
    await pool.waitFor(/\[warn\].*license\.enforce toggled to false by admin@test\.local/)
    expect((await api(pool.url, "POST", "/v1/admin/license/enforce", { enabled: true })).body.enforce).toBe(true)
    await pool.waitFor(/license\.enforce toggled to true/)

    expect((await api(pool.url, "DELETE", "/v1/admin/license")).body).toMatchObject({
      ok: true,
      status: "none",
      client_id: null,
    })
    expect((await api(pool.url, "GET", "/v1/admin/license")).body.status).toBe("none")
    expect((await api(pool.url, "POST", "/v1/admin/license/upload", { token: await token(keyA) })).body.status).toBe(
      "active",
    )
    expect(await pool.kill("SIGTERM")).toBe(0)

    // The next boot verifies the stored token again and says so.
    const again = await startPool({ dataDir, env: env(toHex(keyA.publicKey)) })
    await again.waitFor(/license boot: active, client=cluster-example-001 tier=cabinet expires_in=365d/)
    // Without trusted networks the header names nobody.
    await again.kill("SIGTERM")
    const closed = await startPool({
      dataDir,
      env: { ...env(toHex(keyA.publicKey)), CELLULE_TRUSTED_NETWORKS: undefined } as Record<string, string | undefined>,
    })
    expect((await api(closed.url, "GET", "/v1/admin/license")).body.error).toBe("admin_auth_required")
    await closed.kill("SIGTERM")
  }, 180_000)

  test("a release with another key: the stored licence boots invalid, mutations get 402, reads and inference still work, a new upload fixes it", async () => {
    const dataDir = tempDir("cellule-lic-")
    const first = await startPool({ dataDir, env: env(toHex(keyA.publicKey)) })
    expect((await api(first.url, "POST", "/v1/admin/license/upload", { token: await token(keyA) })).status).toBe(200)
    await first.kill("SIGTERM")

    const model = await tinyLlamaPath()
    const pool = await startPool({ dataDir, env: env(toHex(keyB.publicKey)) })
    await pool.waitFor(/license boot: invalid - the stored licence does not verify/)
    expect((await api(pool.url, "GET", "/v1/admin/license")).body).toMatchObject({
      status: "invalid",
      client_id: "cluster-example-001",
      problem: { code: "jwt_invalid" },
    })
    await startWorker({ poolUrl: pool.url, token: WORKER_TOKEN, models: [`tiny=${model}`] })
    const chat = await api(
      pool.url,
      "POST",
      "/v1/chat/completions",
      { model: "tiny", messages: [{ role: "user", content: "hello" }], max_tokens: 4 },
      {},
    )
    expect(chat.status).toBe(200)
    expect(chat.body.object).toBe("chat.completion")
    // A gated mutation of the real pool is refused; its read is not.
    const refused = await api(pool.url, "POST", "/v1/admin/keys", { name: "ci" })
    expect(refused).toMatchObject({ status: 402, body: { error: "license_invalid" } })
    expect((await api(pool.url, "GET", "/v1/admin/keys")).status).toBe(200)
    await pool.waitFor(/CRITICAL license invalid: refused POST \/v1\/admin\/keys \(402\)/)
    expect((await api(pool.url, "POST", "/v1/admin/license/upload", { token: await token(keyB) })).body.status).toBe(
      "active",
    )
    expect((await api(pool.url, "POST", "/v1/admin/keys", { name: "ci" })).status).toBe(201)
    await pool.kill("SIGTERM")
  }, 240_000)

  test("with no key (the all-zero placeholder) the pool boots in evaluation mode and refuses every upload", async () => {
    const pool = await startPool({ dataDir: tempDir("cellule-lic-"), env: env(undefined) })
    await pool.waitFor(/license pubkey not initialized/)
    await pool.waitFor(/license boot: no license installed/)
    expect((await api(pool.url, "GET", "/v1/admin/license")).body).toMatchObject({
      status: "none",
      pubkey: { source: "placeholder", placeholder: true },
    })
    for (const key of [keyA, keyB]) {
      const r = await api(pool.url, "POST", "/v1/admin/license/upload", { token: await token(key) })
      expect(r).toMatchObject({ status: 400, body: { error: "jwt_invalid" } })
      expect(r.body.message).toContain("license pubkey not initialized")
    }
    await pool.kill("SIGTERM")
  }, 120_000)
})

describe("a compiled binary built with --define CELLULE_LICENSE_PUBKEY", () => {
  test("trusts the baked-in key and ignores the environment variable", async () => {
    const outfile = join(ROOT, "dist", `cellule-license-test-${process.pid}`)
    onCleanup(() => void Bun.spawnSync(["rm", "-f", outfile]))
    // The release build's flags, plus the define (package.json stays the one source of the flags).
    const script: string = (await Bun.file(join(ROOT, "package.json")).json()).scripts.build
    const args = script
      .replace(/^bun build /, "")
      .replace(/--outfile \S+/, "")
      .replaceAll("'", "")
      .split(/\s+/)
      .filter(Boolean)
    expect(Bun.spawnSync([BUN, "install/build/packs.ts"], { cwd: ROOT }).exitCode).toBe(0) // npm's prebuild
    const build = Bun.spawnSync(
      [BUN, "build", ...args, "--define", `CELLULE_LICENSE_PUBKEY="${toHex(keyA.publicKey)}"`, "--outfile", outfile],
      { cwd: ROOT },
    )
    expect(build.exitCode).toBe(0)

    const dataDir = tempDir("cellule-lic-")
    const p = spawnProc([outfile, "pool", "--port", "0", "--host", "127.0.0.1", "--data-dir", dataDir], {
      cwd: tempDir(),
      // A compiled binary must never take the key from the environment.
      env: { POOL_NAME: "compiled-lic", CELLULE_SETUP_ANSWERS: testSetupAnswers(), ...env(toHex(keyB.publicKey)) },
    })
    const url = (await p.waitFor(/cellule pool ready (http:\/\/\S+)/, 90_000))[1]
    expect(p.stderr()).toContain("license: public key from the build")
    expect((await api(url, "GET", "/v1/admin/license")).body.pubkey).toEqual({ source: "build", placeholder: false })
    expect((await api(url, "POST", "/v1/admin/license/upload", { token: await token(keyB) })).body.error).toBe(
      "jwt_invalid",
    )
    expect((await api(url, "POST", "/v1/admin/license/upload", { token: await token(keyA) })).body).toMatchObject({
      status: "active",
    })
    expect(await p.kill("SIGTERM")).toBe(0)
  }, 180_000)
})
