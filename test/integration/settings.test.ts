// Advanced settings (issue 19) with a real pool and a real worker: every setting listed with its source;
// a typed refusal with its reason (API and page, next to the field); a value the environment forces is
// locked; runtime flags changed in the page reach the connected worker, which reloads its model with
// them between requests (no request fails) and reports what it runs; the MoE profile decides "auto".
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import {
  cleanupAll,
  startCelluleProxy,
  startPool,
  startWorker,
  TEST_ADMIN,
  workerDetails,
  type PoolProc,
  type WorkerProc,
} from "../support/proc.ts"
import { tinyLlamaPath } from "../support/fixtures.ts"
import { until } from "../support/until.ts"
import { hostname } from "node:os"

let pool: PoolProc
let worker: WorkerProc
const admin = { "x-cellule-user": TEST_ADMIN.email }

beforeAll(async () => {
  const model = await tinyLlamaPath()
  const token = "settings-token-0123456789"
  // CELLULE_ANONYMOUS_ACCESS=true (TEST_POOL_ENV) forces openai.anonymous_access: the lock case.
  pool = await startPool({ env: { CELLULE_WORKER_TOKEN: token, CELLULE_TRUSTED_NETWORKS: "127.0.0.1/32" } })
  worker = await startWorker({
    poolUrl: pool.url,
    token,
    models: [`tiny=${model}`, `tiny2=${model}`],
    slots: 1,
    env: { CELLULE_HARDWARE_CLASS: "cpu-mid" },
  })
}, 400_000)
afterAll(cleanupAll)

const put = (key: string, value: unknown) =>
  fetch(`${pool.url}/v1/admin/settings/${key}`, {
    method: "PUT",
    headers: { ...admin, "content-type": "application/json" },
    body: JSON.stringify({ value }),
  })

const ask = (model: string) =>
  fetch(`${pool.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model, messages: [{ role: "user", content: "hello" }], max_tokens: 8, temperature: 0 }),
  })

describe("Advanced settings", () => {
  test("GET /v1/admin/settings lists every setting with value, source, description and restart flag", async () => {
    const r = await fetch(`${pool.url}/v1/admin/settings`, { headers: admin })
    expect(r.status).toBe(200)
    const { settings } = (await r.json()) as { settings: any[] }
    const by = new Map(settings.map((s) => [s.key, s]))
    expect(by.get("runtime_flags.cpu-mid")).toMatchObject({
      editable: true,
      source: "default",
      restart: false,
      category: "workers",
    })
    expect(by.get("runtime_flags.cpu-mid").description.fr).toContain("postes")
    expect(by.get("runtime_flags.cpu-mid").recommend.cabinet).toBeDefined()
    expect(by.get("openai.anonymous_access")).toMatchObject({
      locked: true,
      editable: false,
      source: "environment",
      value: true,
      env: "CELLULE_ANONYMOUS_ACCESS",
    })
    expect(by.get("maxQueue")).toMatchObject({ editable: false, restart: true, source: "default" })
    expect(by.get("workerToken")).toMatchObject({ value: "[redacted]", source: "environment" })
  })

  test("each setting carries the recommendation for the cluster's sector and size, in the API and on the page", async () => {
    // The pool's wizard answers: a law firm (LAW) of 12 declared people, so the small-office profile.
    const r = await fetch(`${pool.url}/v1/admin/settings`, { headers: admin })
    const { settings, role } = (await r.json()) as { settings: any[]; role: any }
    // Bonded to no one: this pool is its own master and takes changes.
    expect(role).toEqual({ role: "master", master_pool: null, master_url: null })
    const by = new Map(settings.map((s) => [s.key, s]))
    // The small-office profile would open anonymous access; a law firm's secrecy closes it.
    expect(by.get("openai.anonymous_access").recommend.cabinet).toBe(true)
    expect(by.get("openai.anonymous_access").recommend.sector).toMatchObject({
      sector: "LAW",
      profile: "cabinet",
      value: false,
      why: { en: expect.stringContaining("professional secrecy") },
    })
    expect(by.get("runtime_flags.gpu-large").recommend.sector.value).toMatchObject({ context_size: 16384 })
    // Where the sector has no rule, the profile's value stands, with no reason.
    const cpu = by.get("runtime_flags.cpu-mid").recommend
    expect(cpu.sector).toEqual({ sector: "LAW", profile: "cabinet", value: cpu.cabinet })
    const page = await (
      await fetch(`${pool.url}/settings`, { headers: { ...admin, cookie: "cellule_lang=fr" } })
    ).text()
    expect(page).toMatch(
      /<p class="small recommend-sector" data-sector="LAW">Recommandé pour votre secteur \(Cabinet d’avocats, cabinet\): <code>false<\/code> — secret professionnel/,
    )
    expect(page).toContain('id="settings-role" data-role="master"')
  })

  test.each([
    ["a context too small", "runtime_flags.cpu-mid", { context_size: 10 }, 400, "setting_invalid", "context_size"],
    ["an unknown flag", "runtime_flags.gpu-large", { turbo: true }, 400, "setting_invalid", "turbo"],
    [
      "a quantised cache without flash attention",
      "runtime_flags.gpu-small",
      { kv_cache_type: "q4_0" },
      400,
      "setting_invalid",
      "flash_attention",
    ],
    ["a MoE profile with a bad spread", "moe.profile", { spread: "random" }, 400, "setting_invalid", "spread"],
    [
      "a switch the environment forces",
      "openai.anonymous_access",
      false,
      409,
      "setting_forced_by_environment",
      "CELLULE_ANONYMOUS_ACCESS",
    ],
    ["start-up configuration", "maxQueue", 5, 409, "setting_startup_only", "MAX_QUEUE"],
  ])("%s is refused with the reason", async (_name, key, value, status, code, reason) => {
    const r = await put(key, value)
    expect(r.status).toBe(status)
    const body = (await r.json()) as { error: string; message: string }
    expect(body.error).toBe(code)
    expect(body.message).toContain(reason)
  })

  test("the page shows an invalid value's reason next to its field (HTMX) and audits the attempt", async () => {
    const page = await fetch(`${pool.url}/settings`, { headers: admin })
    expect(page.status).toBe(200)
    const html = await page.text()
    expect(html).toContain('id="setting-runtime_flags-cpu-mid"')
    expect(html).toContain("CELLULE_ANONYMOUS_ACCESS")
    const r = await fetch(`${pool.url}/settings/runtime_flags.cpu-mid`, {
      method: "POST",
      headers: { ...admin, "hx-request": "true", "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ value: '{"parallel": 500}' }),
    })
    expect(r.status).toBe(400)
    const box = await r.text()
    // The fragment is the setting's box: the field, marked invalid, then the reason right after it.
    expect(box).toStartWith('<section class="setting card" id="setting-runtime_flags-cpu-mid"')
    expect(box).toMatch(
      /<textarea id="setting-runtime_flags-cpu-mid-value"[^>]*aria-invalid="true"[^>]*>\{&quot;parallel&quot;: 500\}<\/textarea>\s*<p class="field-error[^"]*" id="setting-runtime_flags-cpu-mid-error" role="alert">setting_invalid: parallel must be a whole number from 1 to 64/,
    )
    const audit = await fetch(`${pool.url}/v1/admin/audit?action=setting.change`, { headers: admin })
    const rows = JSON.stringify(await audit.json())
    expect(rows).toContain("setting:runtime_flags.cpu-mid")
  })

  test("runtime flags changed in the page reach the worker, which runs them without a failed request", async () => {
    const before = (await workerDetails(pool.url)).workers[0]
    expect(before.hardware_class).toBe("cpu-mid")
    // Requests keep coming on both models while the flags change.
    let stop = false
    const statuses: number[] = []
    const load = async (model: string) => {
      while (!stop) statuses.push((await ask(model)).status)
    }
    const loops = [load("tiny"), load("tiny"), load("tiny2")]
    await until("requests running", async () => statuses.length >= 3, 60_000)
    const r = await fetch(`${pool.url}/settings/runtime_flags.cpu-mid`, {
      method: "POST",
      headers: { ...admin, "hx-request": "true", "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ value: JSON.stringify({ context_size: 512, parallel: 2, batch_size: 256 }) }),
    })
    expect(r.status).toBe(200)
    expect(await r.text()).toContain('data-source="admin"')
    const { value: w } = await until(
      "the worker reports the new flags",
      async () => {
        const w = (await workerDetails(pool.url)).workers[0]
        return w?.runtime?.models?.tiny?.context_size === 512 && w.runtime.models.tiny2?.parallel === 2 ? w : undefined
      },
      120_000,
      100,
    )
    // What the engine really has, read back on the worker, not only what it was told.
    expect(w.runtime.models.tiny).toMatchObject({ context_size: 512, parallel: 2, batch_size: 256 })
    expect(w.runtime.flags).toEqual({ context_size: 512, parallel: 2, batch_size: 256 })
    // The pool schedules on the new slot count.
    expect(w.models.find((m: any) => m.id === "tiny").slots).toBe(2)
    expect(worker.stdout() + worker.stderr()).toContain("runtime flags applied")
    const n = statuses.length
    await until("requests served after the change", async () => statuses.length >= n + 3, 60_000)
    stop = true
    await Promise.all(loops)
    expect(statuses.filter((s) => s !== 200)).toEqual([])
  }, 300_000)

  test('the MoE profile decides which model answers "auto"', async () => {
    const answeredBy = async () => ((await (await ask("auto")).json()) as { model: string }).model
    expect(
      (
        await put("moe.profile", {
          experts: [
            { model: "tiny2", weight: 1 },
            { model: "tiny", weight: 0 },
          ],
        })
      ).status,
    ).toBe(200)
    await until("auto goes to tiny2", async () => (await answeredBy()) === "tiny2", 10_000, 50)
    for (let i = 0; i < 3; i++) expect(await answeredBy()).toBe("tiny2")
    expect((await put("moe.profile", { experts: [{ model: "tiny", weight: 5 }], spread: "weighted" })).status).toBe(200)
    await until("auto goes to tiny", async () => (await answeredBy()) === "tiny", 10_000, 50)
    for (let i = 0; i < 3; i++) expect(await answeredBy()).toBe("tiny")
  }, 120_000)
})

test("Overview shows the cluster: contributing endpoints, sites, detected network, MoE profile, shortcuts", async () => {
  const page = await (await fetch(`${pool.url}/`, { headers: { ...admin, cookie: "cellule_lang=en" } })).text()
  expect(page).toContain('<div class="v" id="endpoint-count">1</div>')
  expect(page).toContain('<div class="v" id="site-count">0</div>')
  expect(page).toContain('id="network-type" data-type="single"')
  // The profile the previous test left: one expert, weighted.
  expect(page).toContain('<div class="v" id="moe-profile">tiny ×5 (weighted)</div>')
  for (const href of ["/settings", "/federation", "/documentation"]) expect(page).toContain(`<li><a href="${href}">`)
})

test("branding: company name and logo change after setup, with the wizard's checks and SVG sanitising", async () => {
  const post = (fields: Record<string, string | Blob>) => {
    const form = new FormData()
    for (const [k, v] of Object.entries(fields)) form.append(k, v)
    return fetch(`${pool.url}/settings/branding`, { method: "POST", headers: admin, body: form })
  }
  const tooLong = await post({ company: "x".repeat(200) })
  expect(tooLong.status).toBe(400)
  expect(await tooLong.text()).toContain("company_invalid: company name: too_long")
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script><rect width="10" height="10" onload="x()"/></svg>`
  const ok = await post({ company: "Nouveau Cabinet", logo: new Blob([svg], { type: "image/svg+xml" }) })
  expect(ok.status).toBe(200)
  const page = await (await fetch(`${pool.url}/settings`, { headers: admin })).text()
  expect(page).toContain('<span class="company">Nouveau Cabinet</span>')
  const logo = await fetch(`${pool.url}/setup/logo`)
  expect(logo.headers.get("content-type")).toContain("image/svg+xml")
  const stored = await logo.text()
  expect(stored).toContain("<rect")
  expect(stored).not.toContain("script")
  expect(stored).not.toContain("onload")
})

test("Overview lists the cellule proxy in front of the pool (proxies seen), with its address and last seen", async () => {
  const proxy = await startCelluleProxy([pool.url], { CELLULE_PROXY_HEALTH_INTERVAL_MS: "200" })
  const proxies = async () =>
    ((await (await fetch(`${pool.url}/overview.json`, { headers: admin })).json()) as { proxies: any[] }).proxies
  const first = await until(
    "the proxy's health checks reach the pool",
    async () => (await proxies()).length === 1 && (await proxies())[0],
    10_000,
    50,
  )
  const port = new URL(proxy.url).port
  expect(first.value).toMatchObject({ name: hostname(), url: `http://127.0.0.1:${port}`, from: "127.0.0.1" })
  expect(first.value.id).toMatch(/^[0-9a-f]{12}$/)
  // Seen again at the next health checks: last seen moves.
  await until("last seen moves", async () => (await proxies())[0].last_seen > first.value.last_seen, 5_000, 50)
  // A client cannot pose as a proxy through it: its header does not cross.
  const forged = "id=aaaaaaaaaaaa; name=intruder; url=http%3A%2F%2F10.9.9.9%3A1"
  expect((await fetch(`${proxy.url}/v1/status`, { headers: { "x-cellule-proxy": forged } })).status).toBe(200)
  expect((await proxies()).map((p) => p.name)).toEqual([hostname()])
  const page = await (await fetch(`${pool.url}/`, { headers: { ...admin, cookie: "cellule_lang=fr" } })).text()
  expect(page).toContain('<span class="badge" id="proxy-count">1</span>')
  expect(page).toMatch(
    new RegExp(`<tr data-proxy="${first.value.id}"><td>[^<]+</td><td><code>http://127.0.0.1:${port}</code>`),
  )
  expect(page).toContain("Vu pour la dernière fois")
  await proxy.kill()
})
