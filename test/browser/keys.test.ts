// API keys and anonymous access as an admin meets them, on a real pool in headless Chromium: the API
// refuses calls without a key by default; the Worker balancing page creates a key (its secret shown
// once, never again), the key works, a bad limit is a readable error, revocation takes the key away;
// the anonymous-access switch opens the API to key-less calls and closes it again (French labels too).
import { afterAll, beforeAll, expect, test } from "bun:test"
import { cleanupAll, startPool, startWorker, TEST_ADMIN, type PoolProc } from "../support/proc.ts"
import { tinyLlamaPath } from "../support/fixtures.ts"
import { launchBrowser, pageAcceptingDialogs, shot } from "../support/browser.ts"

let pool: PoolProc
beforeAll(async () => {
  const token = "keys-browser-token-0123456789"
  // CELLULE_ANONYMOUS_ACCESS unset: the product's own default, decided by the dashboard switch.
  pool = await startPool({
    env: { CELLULE_WORKER_TOKEN: token, CELLULE_ANONYMOUS_ACCESS: undefined, CELLULE_TRUSTED_NETWORKS: "127.0.0.1/32" },
  })
  await startWorker({ poolUrl: pool.url, token, models: [`tiny=${await tinyLlamaPath()}`] })
})
afterAll(cleanupAll)

const chat = (key?: string) =>
  fetch(`${pool.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body: JSON.stringify({ model: "tiny", messages: [{ role: "user", content: "hi" }], max_tokens: 4 }),
  })
const errorOf = async (r: Response) => ((await r.json()) as { error: string }).error

/** Until `f` returns `want` (a switch or a revocation reaches requests within about a second). */
async function eventually<T>(f: () => Promise<T>, want: T, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms
  let last = await f()
  while (last !== want && Date.now() < deadline) {
    await Bun.sleep(100)
    last = await f()
  }
  return last
}

test("out of the box the API needs a key; the dashboard creates, shows once and revokes keys and opens anonymous access", async () => {
  const refused = await chat()
  expect(refused.status).toBe(401)
  expect(await errorOf(refused)).toBe("api_key_required")

  const browser = await launchBrowser()
  const { page, dialogs } = await pageAcceptingDialogs(browser)
  await page.goto(`${pool.url}/login?next=/balancing`)
  await page.fill("#email", TEST_ADMIN.email)
  await page.fill("#password", TEST_ADMIN.password)
  await page.click('button[type="submit"]')
  await page.waitForURL(/\/balancing$/)
  expect(await page.getAttribute("#anon-state", "data-enabled")).toBe("false")

  // A bad limit: the page says what is wrong, no key is made.
  await page.fill("#key-name", "cabinet scripts")
  await page.fill("#key-rpm", "0")
  await page.evaluate(() => (document.querySelector("#key-rpm") as HTMLInputElement).removeAttribute("min"))
  await page.click("#create-key")
  await page.waitForSelector("#keys-flash.bad")
  expect(await page.textContent("#keys-flash")).toContain("validation_failed")
  expect(await page.$$("#keys-table tbody tr")).toHaveLength(0)

  // A good one: the secret appears once, in the flash.
  await page.fill("#key-name", "cabinet scripts")
  await page.fill("#key-project", "comptabilité")
  await page.fill("#key-rpm", "100")
  await page.selectOption("#key-priority", "batch")
  await page.click("#create-key")
  await page.waitForSelector("#key-secret")
  const secret = (await page.textContent("#key-secret"))!.trim()
  expect(secret).toStartWith("sk-cel-")
  await shot(page, "keys-01-created")
  expect(await page.textContent("#keys-table")).toContain("cabinet scripts")
  expect(await page.textContent("#keys-table")).toContain("100 req/min")
  expect((await chat(secret)).status).toBe(200)

  // Never shown again: not on a reload, not in the page's HTML.
  await page.goto(`${pool.url}/balancing`)
  expect(await page.$("#key-secret")).toBeNull()
  expect(await page.content()).not.toContain(secret)

  // Anonymous access: behind a confirmation, then key-less calls work, counted as "anonymous".
  await page.click("#anon-toggle")
  await page.waitForSelector('#anon-state[data-enabled="true"]')
  expect(dialogs.at(-1)).toContain("without a key")
  expect(await eventually(async () => (await chat()).status, 200)).toBe(200)
  const state = await (
    await fetch(`${pool.url}/v1/admin/anonymous-access`, { headers: { "x-cellule-user": TEST_ADMIN.email } })
  ).json()
  expect(state).toEqual({ enabled: true, forced: false })

  // Revoke the key: it is refused (401 invalid_api_key would be wrong while anonymous access is on:
  // the caller is then anonymous), so close anonymous access first and check both.
  await page.click("#anon-toggle")
  await page.waitForSelector('#anon-state[data-enabled="false"]')
  expect(await eventually(async () => (await chat()).status, 401)).toBe(401)
  await page.click(`#keys-table form[action="/balancing/keys/revoke"] button`)
  await page.waitForSelector("#keys-flash:not(.bad)")
  expect(await page.textContent("#keys-table")).toContain("revoked")
  const afterRevoke = await eventually(async () => (await chat(secret)).status, 401, 8000)
  expect(afterRevoke).toBe(401)

  // The same page in French.
  const fr = await browser.newPage({ locale: "fr-FR", extraHTTPHeaders: { "accept-language": "fr-FR" } })
  await fr.context().addCookies((await page.context().cookies()).filter((c) => c.name !== "cellule_lang"))
  await fr.goto(`${pool.url}/balancing`)
  expect(await fr.textContent("#anonymous h2")).toBe("Accès sans clé d'API")
  expect(await fr.textContent("#create-key")).toBe("Créer la clé")
  await shot(fr, "keys-02-fr")
})
