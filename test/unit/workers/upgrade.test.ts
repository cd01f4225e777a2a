// The post-swap safety net: a new binary that keeps failing before it joins its pool is replaced
// by the previous one after two starts; one that joins commits the upgrade.
import { afterAll, expect, test } from "bun:test"
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { cleanupAll, tempDir } from "../../support/proc.ts"
import { checkUpgradeHealth, commitUpgrade, noteUpgradeInstalled } from "../../../core/workers/auto.ts"

afterAll(cleanupAll)

function installed() {
  const dir = tempDir()
  const exe = join(dir, "cellule")
  writeFileSync(exe, "new")
  writeFileSync(`${exe}.old`, "old")
  noteUpgradeInstalled(dir, exe, "0.0.1", "0.0.2")
  return { dir, exe }
}

test("two failed starts of the new binary, then the old one is put back", () => {
  const { dir, exe } = installed()
  expect(checkUpgradeHealth(dir)).toMatchObject({ rolledBack: false })
  expect(checkUpgradeHealth(dir)).toMatchObject({ rolledBack: false })
  expect(checkUpgradeHealth(dir)).toEqual({ rolledBack: true, from: "0.0.1", to: "0.0.2" })
  expect(readFileSync(exe, "utf8")).toBe("old")
  expect(existsSync(`${exe}.old`)).toBe(false)
  expect(checkUpgradeHealth(dir)).toEqual({ rolledBack: false })
})

test("a new binary that joined commits the upgrade", () => {
  const { dir, exe } = installed()
  checkUpgradeHealth(dir)
  commitUpgrade(dir)
  expect(readFileSync(exe, "utf8")).toBe("new")
  expect(existsSync(`${exe}.old`)).toBe(false)
  expect(checkUpgradeHealth(dir)).toEqual({ rolledBack: false })
})
