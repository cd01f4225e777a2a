// Test support: headless Debian Chromium driven by playwright-core, screenshots under
// test-artifacts/screenshots/. Closed by cleanupAll.
import { mkdirSync } from "node:fs"
import { join } from "node:path"
import { chromium, type Browser, type Page } from "playwright-core"
import { onCleanup, ROOT } from "./proc.ts"

export const SCREENSHOTS = join(ROOT, "test-artifacts", "screenshots")
export const CHROMIUM = "/usr/bin/chromium"

export async function launchBrowser(): Promise<Browser> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--no-sandbox",
      "--headless",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--no-first-run",
    ],
  })
  onCleanup(() => browser.close())
  return browser
}

/** A page whose confirm() dialogs are accepted; `dialogs` collects their messages. */
export async function pageAcceptingDialogs(
  browser: Browser,
  locale = "en-GB",
): Promise<{ page: Page; dialogs: string[] }> {
  const page = await browser.newPage({ locale })
  const dialogs: string[] = []
  page.on("dialog", (d) => {
    dialogs.push(d.message())
    void d.accept()
  })
  return { page, dialogs }
}

/** Saves a full-page screenshot as test-artifacts/screenshots/<name>.png. */
export async function shot(page: Page, name: string) {
  mkdirSync(SCREENSHOTS, { recursive: true })
  // A long page on a loaded 2-core machine can take more than the default 30 s to paint.
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true, timeout: 90_000 })
}
