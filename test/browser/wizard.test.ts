// A person's first boot, in headless Chromium: the wizard screen by screen (licence preview decoded in
// the browser, logo, sites, a refresh mid-way that keeps the answers but not the password), the
// dashboard, a worker appearing on Overview without a reload, then the License page (renew, the banner
// changes; enforce toggle behind a confirmation) and the French switch. Screenshots: test-artifacts/screenshots.
import { afterAll, expect, test } from "bun:test"
import { cleanupAll, startPool, startWorker } from "../support/proc.ts"
import { tinyLlamaPath } from "../support/fixtures.ts"
import { launchBrowser, pageAcceptingDialogs, shot } from "../support/browser.ts"
import { generateKeyPair, issueLicense, toHex } from "../../core/license/index.ts"
import { ipString, ipv4, localAddresses, networkOf, type LocalAddress } from "../../core/vip/net.ts"

/** A host address of `lan`'s subnet other than the host's own (the wizard only validates; nothing binds it). */
function freeAddressNear(lan: LocalAddress): string {
  const own = ipv4(lan.address)!
  const net = networkOf(own, lan.prefix)
  const candidate = net + (own - net === 1 ? 2 : 1)
  return ipString(candidate)
}

afterAll(cleanupAll)

const _DAY = 86_400_000
const LOGO =
  '<svg xmlns="http://www.w3.org/2000/svg" width="120" height="40"><rect width="120" height="40" fill="#2f5bd3"/><script>alert(1)</script></svg>'

test("first boot in a browser: wizard, dashboard, live Overview, licence banner", async () => {
  const keys = await generateKeyPair()
  // 20 days left: the dashboard must show the warning_j30 banner until a renewed licence is uploaded.
  const short = await issueLicense({ clientId: "cabinet-dupont", tier: "cabinet", durationDays: 20 }, keys.privateKey)
  const renewed = await issueLicense(
    { clientId: "cabinet-dupont", tier: "cabinet", durationDays: 365 },
    keys.privateKey,
  )
  const pool = await startPool({
    setup: false,
    env: { CELLULE_LICENSE_PUBKEY: toHex(keys.publicKey), CELLULE_WORKER_TOKEN: "browser-test-token" },
  })
  const browser = await launchBrowser()
  const { page, dialogs } = await pageAcceptingDialogs(browser)

  // Any page sends a browser to the wizard.
  await page.goto(`${pool.url}/`)
  expect(new URL(page.url()).pathname).toBe("/setup/ui")
  await page.waitForSelector('h1[data-step="license"]')

  // 1. Licence: choose the .jwt file; the preview is decoded in the browser before anything is sent.
  await page.setInputFiles("#license-file", {
    name: "cabinet-dupont.jwt",
    mimeType: "application/jwt",
    buffer: Buffer.from(short.token),
  })
  await page.waitForSelector('#license-preview[data-valid="true"]')
  expect(await page.textContent('#license-preview dd[data-field="tier"]')).toBe("cabinet")
  expect(await page.textContent('#license-preview dd[data-field="client"]')).toBe("cabinet-dupont")
  expect(await page.textContent('#license-preview dd[data-field="expires"]')).toBe(
    new Date(short.license.exp * 1000).toISOString().slice(0, 10),
  )
  expect(await page.textContent('#license-preview dd[data-field="features"]')).toContain(
    short.license.features[0] ?? "—",
  )
  await shot(page, "01-license-preview")
  await page.click("#license-use")
  await page.waitForSelector('h1[data-step="identity"]')

  // 2. Identity, with an error first (shown next to the field), then a logo.
  await page.click('button[value="next"]')
  await page.waitForSelector("#err-company")
  await shot(page, "02-identity-error")
  await page.fill("#company", "Dupont & Associés")
  await page.selectOption("#sector", "LAW")
  await page.setInputFiles("#logo", { name: "logo.svg", mimeType: "image/svg+xml", buffer: Buffer.from(LOGO) })
  await page.click('button[value="next"]')
  await page.waitForSelector('h1[data-step="topology"]')

  // 3. Topology: two sites, then a refresh before submitting — the answers come back.
  await page.fill('input[name="site_name"] >> nth=0', "Paris")
  await page.fill('input[name="site_headcount"] >> nth=0', "40")
  await page.click("[data-add-site]")
  await page.fill('input[name="site_name"] >> nth=1', "Lyon")
  await page.fill('input[name="site_headcount"] >> nth=1', "12")
  await page.reload()
  await page.waitForSelector('h1[data-step="topology"]')
  await page.waitForFunction(
    () => (document.querySelectorAll('input[name="site_name"]')[1] as HTMLInputElement | undefined)?.value === "Lyon",
  )
  expect(await page.inputValue('input[name="site_name"] >> nth=0')).toBe("Paris")
  expect(await page.inputValue('input[name="site_headcount"] >> nth=1')).toBe("12")
  await shot(page, "03-topology-after-refresh")
  await page.click('button[value="next"]')

  // 4-7. Hardware, HA network, models, security (retention left to the sector).
  await page.waitForSelector('h1[data-step="hardware"]')
  await page.fill("#gpu_servers", "1")
  await page.click('button[value="next"]')

  // 5. HA network (VIP): "none" is preselected; the first-pool form shows only once chosen, and each
  // mistake is named next to its field (the pool's own address, an address outside the network).
  await page.waitForSelector('h1[data-step="network"]')
  expect(await page.isChecked("#vip_mode-none")).toBe(true)
  expect(await page.isVisible("#vip_address")).toBe(false)
  await page.check("#vip_mode-first")
  await page.waitForSelector("#vip_address", { state: "visible" })
  const lan = localAddresses()[0]! // the host's first LAN address: the VIP goes in its subnet
  expect(await page.textContent("#vip-local")).toContain(lan.address)
  await page.fill("#vip_address", lan.address)
  await page.fill("#vip_cidr", String(lan.prefix))
  await page.click('button[value="next"]')
  await page.waitForSelector("#err-vip_address")
  expect(await page.textContent("#err-vip_address")).toContain("this pool's own address")
  expect(await page.isChecked("#vip_mode-first")).toBe(true) // the chosen mode is kept with the errors
  const vip = freeAddressNear(lan)
  await page.fill("#vip_address", vip)
  await page.fill("#vip_cidr", "198.51.100.0/24")
  await page.click('button[value="next"]')
  // The previous error is still on the page until the answer replaces it: wait for the new one.
  await page
    .waitForFunction(() => !document.querySelector("#err-vip_address")?.textContent?.includes("own address"), null, {
      timeout: 20_000,
    })
    .catch(() => {})
  expect(await page.textContent("#err-vip_address")).toContain("not inside this network")
  await shot(page, "04b-network-error")
  await page.fill("#vip_cidr", String(lan.prefix))
  await page.click('button[value="next"]')
  await page.waitForSelector('h1[data-step="models"]')
  await page.check("#tier-reasoning")
  await page.click('button[value="next"]')
  await page.waitForSelector('h1[data-step="security"]')
  await page.click('button[value="next"]')

  // 7. Admin: a refresh keeps the e-mail, never the password (not on the page, not in localStorage).
  await page.waitForSelector('h1[data-step="admin"]')
  await page.fill("#email", "it@dupont.example")
  await page.fill("#password", "correct-horse-battery")
  await page.fill("#password_confirm", "correct-horse-battery")
  await page.reload()
  await page.waitForSelector('h1[data-step="admin"]')
  await page.waitForFunction(() => (document.querySelector("#email") as HTMLInputElement).value === "it@dupont.example")
  expect(await page.inputValue("#password")).toBe("")
  const stored = await page.evaluate(() => JSON.stringify(localStorage))
  expect(stored).toContain("it@dupont.example")
  expect(stored).not.toContain("correct-horse-battery")
  await shot(page, "04-admin-after-refresh")
  await page.fill("#password", "correct-horse-battery")
  await page.fill("#password_confirm", "correct-horse-battery")
  await page.click('button[value="next"]')

  // A second tab left on the recap screen (opened before completion) is used later.
  await page.waitForSelector("#sector-defaults")
  const stale = await browser.newPage()
  await stale.goto(`${pool.url}/setup/ui?step=recap`)
  await stale.waitForSelector("#sector-defaults")

  // 8. Recap shows the sector defaults (LAW: 120 months, strict), then Go lands on the dashboard.
  await page.waitForSelector("#sector-defaults")
  expect(await page.textContent('#sector-defaults td[data-field="retention"]')).toContain("120")
  expect(await page.textContent('#sector-defaults td[data-field="grade"]')).toContain("strict")
  expect(await page.textContent("#recap")).toContain(`${vip}/${lan.prefix}, first pool (priority 200)`)
  await shot(page, "05-recap")
  await Promise.all([page.waitForURL(`${pool.url}/`), page.click('button[value="next"]')])
  await page.waitForSelector("#live")
  expect(await page.textContent(".brand .company")).toBe("Dupont & Associés")
  expect(await page.getAttribute(".brand img.logo", "src")).toBe("/setup/logo")
  expect(await page.getAttribute("#license-banner", "data-status")).toBe("warning_j30")
  expect(await page.textContent("#headcount")).toBe("52")
  expect(await page.textContent("#worker-count")).toBe("0")
  await shot(page, "06-dashboard-no-worker")
  // The VIP the wizard stored: vip-self (the signed-in admin) has it, with a generated password kept back.
  const self = await page.evaluate(async () => (await fetch("/v1/cluster/vip-self")).json())
  expect(self).toMatchObject({
    configured: true,
    vip_address: vip,
    prefix: lan.prefix,
    priority: 200,
    state: "UNKNOWN",
  })
  expect(self.interface).toBe(lan.iface)
  expect(self.auth_pass).toBeUndefined()
  const info = await page.evaluate(async () => (await fetch("/v1/cluster/vip-info")).json())
  expect(info.auth_pass).toMatch(/^[A-Za-z0-9]{8}$/)

  // The stale tab submits too: the 409 is shown as a message, not swapped in as raw JSON.
  await stale.click('button[value="next"]')
  await stale.waitForSelector("#wizard-error")
  expect(await stale.textContent("#wizard-error")).toContain("re-open flow")
  await shot(stale, "05b-stale-tab-409")
  await stale.close()

  // A worker joins: Overview shows it without a reload (same document, marker survives).
  await page.waitForSelector('#live[data-live="sse"]') // pushed over Server-Sent Events, polling switched off
  await page.evaluate(() => ((window as unknown as { marker: number }).marker = 42))
  const worker = await startWorker({
    poolUrl: pool.url,
    token: "browser-test-token",
    models: [`tiny=${await tinyLlamaPath()}`],
    slots: 2,
  })
  await page.waitForSelector("#workers tr[data-worker]", { timeout: 30_000 })
  expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(42)
  expect(await page.textContent("#worker-count")).toBe("1")
  expect(await page.textContent("#workers")).toContain("tiny")
  expect(await page.textContent("#workers")).toContain("0 / 2")
  await shot(page, "07-dashboard-worker-live")

  // License page: the renewed licence, previewed then activated; the banner goes away.
  await page.click('nav a[href="/license"]')
  await page.waitForSelector("#license-info")
  expect(await page.getAttribute("#license-status", "data-status")).toBe("warning_j30")
  await page.fill("#token", renewed.token)
  await page.waitForSelector('#license-preview[data-valid="true"]')
  expect(await page.textContent('#license-preview dd[data-field="expires"]')).toBe(
    new Date(renewed.license.exp * 1000).toISOString().slice(0, 10),
  )
  await shot(page, "08-license-renew-preview")
  await Promise.all([page.waitForNavigation(), page.click("#license-activate")])
  expect(await page.getAttribute("#license-status", "data-status")).toBe("active")
  expect(await page.$("#license-banner")).toBeNull()

  // Enforce toggle: behind a confirmation dialog.
  await Promise.all([page.waitForNavigation(), page.click("#enforce-toggle")])
  expect(dialogs.length).toBe(1)
  expect(await page.getAttribute("#enforce-state", "data-enforce")).toBe("false")
  await shot(page, "09-license-active-enforce-off")

  // French, persisted.
  await Promise.all([page.waitForNavigation(), page.click('a[hreflang="fr"]')])
  expect(await page.textContent('nav a[href="/"]')).toBe("Vue d’ensemble")
  await page.goto(`${pool.url}/`)
  expect(await page.textContent("h1")).toBe("Vue d’ensemble")
  await shot(page, "10-dashboard-fr")
  await worker.kill()
}, 240_000)
