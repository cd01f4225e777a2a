// The Models page as an admin meets it (issue 18), on a real pool in headless Chromium: sign in, upload
// a forged GGUF and watch the progress bar reach 100 % (the file streamed to POST /v1/admin/models with
// the CSRF header), the entry listed with its parsed header; a thinking model flagged; a file that is
// not GGUF refused with its reason; assign a class and a tier; delete refused while assigned, then
// allowed behind the confirmation once unassigned; the probe's slot is there; French labels.
import { afterAll, beforeAll, expect, test } from "bun:test"
import { readdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { cleanupAll, startPool, TEST_ADMIN, tempDir, type PoolProc } from "../support/proc.ts"
import { launchBrowser, pageAcceptingDialogs, shot } from "../support/browser.ts"
import { forgedBytes, THINK_TEMPLATE } from "../support/forged-gguf.ts"

let pool: PoolProc
beforeAll(async () => {
  pool = await startPool()
})
afterAll(cleanupAll)

test("upload with progress, header listed, thinking flagged, junk refused, assign, delete with confirmation; French labels", async () => {
  const dir = tempDir()
  const plain = join(dir, "forged-instruct.gguf")
  writeFileSync(plain, forgedBytes({ name: "forged-instruct", dataBytes: 4 << 20 }))
  const think = join(dir, "forged-think.gguf")
  writeFileSync(think, forgedBytes({ name: "forged-think", template: THINK_TEMPLATE }))
  const junk = join(dir, "junk.gguf")
  writeFileSync(junk, "this is not a model at all")

  const browser = await launchBrowser()
  const { page, dialogs } = await pageAcceptingDialogs(browser)
  await page.goto(`${pool.url}/login?next=/models`)
  await page.fill("#email", TEST_ADMIN.email)
  await page.fill("#password", TEST_ADMIN.password)
  await page.click('button[type="submit"]')
  await page.waitForURL(/\/models$/)
  expect(await page.getAttribute('nav a[aria-current="page"]', "href")).toBe("/models")
  expect(await page.$("section#model-probe")).not.toBeNull()

  const uploadFile = async (path: string) => {
    await page.setInputFiles("#model-file", path)
    await page.click("#model-upload-button")
  }
  await uploadFile(plain)
  await page.waitForSelector('#model-upload-progress[data-state="done"]')
  expect(await page.textContent("#model-upload-pct")).toBe("100 %")
  await page.waitForSelector('#models-table tr[data-model="forged-instruct.gguf"]')
  const row = await page.textContent('#models-table tr[data-model="forged-instruct.gguf"]')
  expect(row).toContain("llama")
  expect(row).toContain("Q4_K_M")
  expect(row).toContain("instruct")
  await shot(page, "models-01-uploaded")

  await uploadFile(think)
  await page.waitForSelector('#models-table tr[data-model="forged-think.gguf"] [data-behaviour="thinking"]')
  // The probe slot: the §4.9 guidance table, and each file's probe (never run yet) with its start form.
  await page.reload()
  await page.waitForSelector("#model-probe #model-guidance table")
  expect(await page.getAttribute('#model-probe .model-probe[data-file="forged-think.gguf"]', "data-status")).toBe(
    "none",
  )
  expect(await page.getAttribute('#model-probe .model-probe[data-file="forged-instruct.gguf"] form', "action")).toBe(
    "/models/forged-instruct.gguf/probe",
  )

  await uploadFile(junk)
  await page.waitForSelector('#model-upload-progress[data-state="failed"]')
  expect(await page.textContent("#model-upload-msg")).toContain("gguf_invalid")
  expect(readdirSync(join(pool.dataDir, "models")).sort()).toEqual(["forged-instruct.gguf", "forged-think.gguf"])

  // Assign cpu-mid and the code tier to the thinking model; its deletion is then refused with the reason.
  await page.selectOption("#assign-class-cpu-mid", "forged-think.gguf")
  await page.click('form[data-kind="class"][data-target="cpu-mid"] button')
  await page.waitForSelector("#models-flash")
  expect(await page.textContent("#models-flash")).toContain("cpu-mid")
  await page.selectOption("#assign-tier-code", "forged-think.gguf")
  await page.click('form[data-kind="tier"][data-target="code"] button')
  await page.waitForSelector("#models-flash")
  expect(await page.textContent('#models-table tr[data-model="forged-think.gguf"] .assigned')).toBe("cpu-mid, code")
  await page.click('#models-table tr[data-model="forged-think.gguf"] .delete-model')
  await page.waitForSelector("#models-flash.bad")
  expect(await page.textContent("#models-flash")).toContain("model_assigned")
  expect(dialogs.length).toBeGreaterThan(0)

  // The unassigned one is deleted behind the confirmation.
  await page.click('#models-table tr[data-model="forged-instruct.gguf"] .delete-model')
  await page.waitForSelector("#models-flash:not(.bad)")
  expect(await page.$('#models-table tr[data-model="forged-instruct.gguf"]')).toBeNull()
  expect(readdirSync(join(pool.dataDir, "models"))).toEqual(["forged-think.gguf"])
  await shot(page, "models-02-assigned")

  await page.goto(`${pool.url}/lang/fr?next=/models`)
  expect(await page.textContent("#upload h2")).toBe("Téléverser un modèle")
  expect(await page.textContent("#model-upload-button")).toBe("Téléverser")
  await browser.close()
}, 180_000)

test("a satellite refuses uploads with the reason; its admin promotes it behind a confirmation, then uploads", async () => {
  const satellite = await startPool({ env: { CELLULE_CATALOGUE_MASTER: "false" } })
  const model = join(tempDir(), "forged-sat.gguf")
  writeFileSync(model, forgedBytes({ name: "forged-sat" }))
  const browser = await launchBrowser()
  const { page, dialogs } = await pageAcceptingDialogs(browser)
  await page.goto(`${satellite.url}/login?next=/models`)
  await page.fill("#email", TEST_ADMIN.email)
  await page.fill("#password", TEST_ADMIN.password)
  await page.click('button[type="submit"]')
  await page.waitForURL(/\/models$/)
  await page.waitForSelector('#catalogue-role[data-role="satellite"]')
  await page.setInputFiles("#model-file", model)
  await page.click("#model-upload-button")
  await page.waitForSelector('#model-upload-progress[data-state="failed"]')
  expect(await page.textContent("#model-upload-msg")).toContain("catalogue_read_only")

  await page.click("#promote-master")
  await page.waitForSelector('#catalogue-role[data-role="master"]')
  expect(dialogs.at(-1)).toContain("catalogue master")
  await page.setInputFiles("#model-file", model)
  await page.click("#model-upload-button")
  await page.waitForSelector('#model-upload-progress[data-state="done"]')
  const list = (await (
    await fetch(`${satellite.url}/v1/admin/models`, {
      headers: { cookie: (await page.context().cookies()).map((c) => `${c.name}=${c.value}`).join("; ") },
    })
  ).json()) as any
  expect(list.catalogue).toMatchObject({ role: "master", master: { epoch: 1, promoted_by: TEST_ADMIN.email } })
  await shot(page, "models-03-promoted")
  await browser.close()
}, 180_000)
