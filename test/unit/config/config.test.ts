import { describe, expect, test } from "bun:test"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { loadConfig, SETTINGS } from "../../../core/config/index.ts"
import { settingsTable } from "../../../core/config/doc.ts"
import { ConfigError } from "../../../core/errors.ts"

describe("loadConfig", () => {
  test("flag beats environment beats default", () => {
    expect(loadConfig("pool", {}, {}).port).toBe(8080)
    expect(loadConfig("pool", {}, { PORT: "9000" }).port).toBe(9000)
    expect(loadConfig("pool", { port: "9100" }, { PORT: "9000" }).port).toBe(9100)
  })

  test("computed defaults use earlier settings (POOL_URL from PORT)", () => {
    expect(loadConfig("pool", {}, { PORT: "9001" }).poolUrl).toMatch(/:9001$/)
  })

  test.each([
    ["PORT", "eighty", /PORT must be a whole number/],
    ["PORT", "70000", /PORT must be at most 65535/],
    ["LOG_LEVEL", "loud", /LOG_LEVEL must be one of/],
    ["POOL_URL", "not a url", /POOL_URL must be a URL/],
    ["DATABASE_URL", "mysql://x", /DATABASE_URL must be a postgres:\/\/ URL/],
  ])("%s=%s is refused naming the variable", (env, value, msg) => {
    expect(() => loadConfig("pool", {}, { [env]: value })).toThrow(msg)
    try {
      loadConfig("pool", {}, { [env]: value })
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError)
    }
  })

  test("the object is frozen and its log form redacts secrets", () => {
    const c = loadConfig("pool", {}, { DATABASE_URL: "postgres://u:pw@h/db", CELLULE_WORKER_TOKEN: "s3cret" })
    expect(Object.isFrozen(c)).toBe(true)
    expect(c.databaseUrl).toBe("postgres://u:pw@h/db")
    const shown = JSON.stringify(c)
    expect(shown).not.toContain("s3cret")
    expect(shown).not.toContain("u:pw")
  })

  test("~ in CELLULE_DATA_DIR expands to the home directory", () => {
    expect(loadConfig("pool", {}, { CELLULE_DATA_DIR: "~/x" }).dataDir).not.toContain("~")
  })

  test("docs/configuration.md holds the generated table of every setting", () => {
    const doc = readFileSync(join(import.meta.dir, "../../../docs/configuration.md"), "utf8")
    // Biome pads markdown tables; compare cell contents, not column alignment.
    const cells = (md: string) => md.replace(/ *\| */g, "|").replace(/-{3,}/g, "---")
    expect(cells(doc)).toContain(cells(settingsTable()))
    for (const s of SETTINGS) expect(doc).toContain(`\`${s.env}\``)
  })
})
