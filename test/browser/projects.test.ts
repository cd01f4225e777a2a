// The Projects page as an admin meets it (issue 15, done-when 5), on a real pool with a worker carrying
// the tiny generated embedder, in headless Chromium: sign in, create a project (an empty name first: the
// error shows next to the field), upload a TXT file and watch the progress bar reach 100 %, its status
// turn "done" in the live list, search a phrase and see the chunk cited, delete the document behind the
// confirmation, then the project; the same page in French.
import { afterAll, beforeAll, expect, test } from "bun:test"
import { cleanupAll, startPool, startWorker, TEST_ADMIN, type PoolProc } from "../support/proc.ts"
import { tinyEmbedderDir } from "../support/fixtures.ts"
import { launchBrowser, pageAcceptingDialogs, shot } from "../support/browser.ts"
import { tempDir } from "../support/proc.ts"
import { join } from "node:path"
import { writeFileSync } from "node:fs"

const TOKEN = "projects-browser-token-0123456789"
let pool: PoolProc
beforeAll(async () => {
  pool = await startPool({ env: { CELLULE_WORKER_TOKEN: TOKEN, CELLULE_TRUSTED_NETWORKS: "127.0.0.1/32" } })
  await startWorker({ poolUrl: pool.url, token: TOKEN, embedder: await tinyEmbedderDir() })
})
afterAll(cleanupAll)

const PHRASE = "the lease of the Marseille warehouse ends on 30 June 2031"

test("create a project, upload with progress, status done, search cites the chunk, delete with confirmation; French labels", async () => {
  const file = join(tempDir(), "bail-marseille.txt")
  // A few kilobytes in paragraphs: the phrase to find first, then filler.
  const filler = Array.from({ length: 60 }, (_, i) => `Paragraph ${i} about office furniture and printer paper.`)
  writeFileSync(file, [`Summary: ${PHRASE}.`, ...filler].join("\n\n"))

  const browser = await launchBrowser()
  const { page, dialogs } = await pageAcceptingDialogs(browser)
  await page.goto(`${pool.url}/login?next=/projects`)
  await page.fill("#email", TEST_ADMIN.email)
  await page.fill("#password", TEST_ADMIN.password)
  await page.click('button[type="submit"]')
  await page.waitForURL(/\/projects$/)
  expect(await page.getAttribute('nav a[aria-current="page"]', "href")).toBe("/projects")

  // An empty name: the error is next to the field, nothing is created.
  await page.click("#create-project")
  await page.waitForSelector("#err-name")
  expect(await page.textContent("#err-name")).toContain("Give the project a name")
  await page.fill("#project-name", "Cabinet Martin")
  await page.fill("#project-description", "Baux commerciaux")
  await page.click("#create-project")
  await page.waitForURL(/\/projects\/prj_/)
  const pid = new URL(page.url()).pathname.split("/")[2]
  await shot(page, "projects-01-created")

  // Upload: the bar fills to 100 %, then the live list shows the document, pending → done.
  await page.setInputFiles("#upload-file", file)
  await page.fill("#upload-title", "Bail Marseille")
  await page.click("#upload-button")
  await page.waitForSelector('#upload-progress[data-state="done"]')
  expect(await page.evaluate(() => (document.querySelector("#upload-progress") as HTMLProgressElement).value)).toBe(100)
  expect(await page.textContent("#upload-pct")).toBe("100 %")
  await shot(page, "projects-02-uploaded")
  await page.waitForSelector('#documents-table .doc-status[data-status="done"]', { timeout: 60_000 })
  const row = await page.textContent("#documents-table tbody tr")
  expect(row).toContain("Bail Marseille")
  expect(row).toContain("done")
  expect(await page.textContent("#documents-table td.chunks")).toMatch(/^(\d+) \/ \1$/)
  await shot(page, "projects-03-done")

  // Search: the cited chunk, with its title and score, the text escaped.
  await page.fill("#search-query", "Marseille warehouse lease")
  await page.click("#search-button")
  await page.waitForSelector("#search-hits .hit")
  expect(await page.textContent("#search-hits .hit-title")).toBe("Bail Marseille")
  expect(await page.textContent("#search-hits .hit-chunk")).toContain(PHRASE)
  expect(Number(await page.textContent("#search-hits .hit-score"))).toBeGreaterThan(0)
  await shot(page, "projects-04-search")

  // A larger file of no known type: the bar's values only grow, from 0 to 100; the document is kept as
  // skipped(unsupported_type).
  const blob = join(tempDir(), "scan.bin")
  writeFileSync(
    blob,
    new Uint8Array(2 * 1024 * 1024).map((_, i) => (i * 7919) % 251),
  )
  await page.evaluate(() => {
    const bar = document.querySelector("#upload-progress") as HTMLProgressElement
    const seen: string[] = []
    ;(window as unknown as { seen: string[] }).seen = seen
    new MutationObserver(() => seen.push(bar.dataset.percent ?? "")).observe(bar, {
      attributeFilter: ["data-percent"],
    })
  })
  await page.setInputFiles("#upload-file", blob)
  await page.click("#upload-button")
  await page.waitForFunction(() => document.querySelector("#upload-progress")?.getAttribute("data-state") === "done")
  const seen = (await page.evaluate(() => (window as unknown as { seen: string[] }).seen)).map(Number)
  console.log(`progress values seen for a 2 MiB upload: ${seen.join(", ")}`)
  expect(seen[0]).toBe(0)
  expect(seen.at(-1)).toBe(100)
  expect(seen).toEqual([...seen].sort((a, b) => a - b))
  await page.waitForSelector('#documents-table .doc-status[data-status="skipped"]', { timeout: 30_000 })
  expect(await page.textContent("#documents-table tr:has(.status-skipped) .reason")).toContain("unsupported_type")
  await page.click("#documents-table tr:has(.status-skipped) .delete-document")
  await page.waitForSelector("#projects-flash")
  expect(await page.$("#documents-table .status-skipped")).toBeNull()

  // The list counts the indexed document.
  const list = await browser.newPage()
  await list.context().addCookies(await page.context().cookies())
  await list.goto(`${pool.url}/projects`)
  expect(await list.textContent(`#projects-table tr[data-project="${pid}"] td.count`)).toBe("1")

  // Delete the document: a confirmation, then it is gone from the page and the API.
  await page.click("#documents-table .delete-document")
  await page.waitForSelector("#documents-empty")
  expect(dialogs.at(-1)).toContain("Delete “Bail Marseille”?")
  const docs = await fetch(`${pool.url}/v1/projects/${pid}/documents`, {
    headers: { "x-cellule-user": TEST_ADMIN.email },
  })
  expect(((await docs.json()) as { data: unknown[] }).data).toEqual([])
  await shot(page, "projects-05-deleted")

  // The same page in French.
  await page.goto(`${pool.url}/lang/fr?next=/projects/${pid}`)
  expect(await page.textContent("#upload h2")).toBe("Ajouter un document")
  expect(await page.textContent("#search-button")).toBe("Rechercher")
  await shot(page, "projects-06-fr")

  // Delete the project (confirmation in French): back on the list, without it.
  await page.click("#delete-project")
  await page.waitForSelector("#projects-flash")
  expect(dialogs.at(-1)).toContain("Supprimer le projet « Cabinet Martin »")
  expect(await page.$(`#projects-table tr[data-project="${pid}"]`)).toBeNull()
}, 120_000)
