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

  test.each([
    ["CELLULE_TRUSTED_NETWORKS", "10.0.0.0/8,10.1.0.0/33", /CELLULE_TRUSTED_NETWORKS: bad prefix in "10.1.0.0\/33"/],
    ["CELLULE_TRUSTED_NETWORKS", "10.0.0.0/8/1", /CELLULE_TRUSTED_NETWORKS: "10.0.0.0\/8\/1" is not an IP/],
    ["CELLULE_TRUSTED_PROXIES", "proxy.lan", /CELLULE_TRUSTED_PROXIES: "proxy.lan" is not an IP address or CIDR/],
    ["CELLULE_TRUSTED_PROXIES", "10.0.0.1/x", /CELLULE_TRUSTED_PROXIES: bad prefix/],
    [
      "CELLULE_WORKER_WORKING_HOURS",
      "weekdays 9-5",
      /CELLULE_WORKER_WORKING_HOURS: working hours "weekdays 9-5" must look like/,
    ],
    ["CELLULE_WORKER_WORKING_HOURS", "mon-fry 08:00-18:00", /CELLULE_WORKER_WORKING_HOURS: unknown day/],
  ])("structured %s=%s is refused at load, naming the variable", (env, value, msg) => {
    expect(() => loadConfig("pool", {}, { [env]: value })).toThrow(msg)
    expect(() => loadConfig("pool", {}, { [env]: value })).toThrow(ConfigError)
  })

  test("a bad CIDR given as a flag names the flag", () => {
    expect(() => loadConfig("pool", { "trusted-networks": ["10.0.0.0/8", "nope"] }, {})).toThrow(
      /--trusted-networks: "nope" is not an IP address or CIDR/,
    )
  })

  test("the config carries CIDR lists and working hours parsed, printing as they were given", () => {
    const c = loadConfig(
      "pool",
      {},
      {
        CELLULE_TRUSTED_NETWORKS: "10.0.5.0/24, fd00::/8",
        CELLULE_WORKER_WORKING_HOURS: "mon-fri 08:00-18:00",
      },
    )
    expect(c.trustedNetworks.has("10.0.5.7")).toBe(true)
    expect(c.trustedNetworks.has("::ffff:10.0.5.7")).toBe(true)
    expect(c.trustedNetworks.has("fd12::1")).toBe(true)
    expect(c.trustedNetworks.has("10.0.6.1")).toBe(false)
    expect(c.trustedProxies.length).toBe(0)
    expect(c.trustedProxies.has("127.0.0.1")).toBe(false)
    expect(c.workerWorkingHours?.spec).toBe("mon-fri 08:00-18:00")
    expect(c.workerWorkingHours?.within(new Date(2026, 11, 2, 9, 30).getTime())).toBe(true) // a Wednesday
    expect(c.workerWorkingHours?.within(new Date(2026, 11, 6, 9, 30).getTime())).toBe(false) // a Sunday
    const shown = JSON.parse(JSON.stringify(c))
    expect(shown.trustedNetworks).toEqual(["10.0.5.0/24", "fd00::/8"])
    expect(shown.workerWorkingHours).toBe("mon-fri 08:00-18:00")
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
    // The formatter pads the table's columns: compare cell by cell, not space by space.
    const cells = (md: string) => md.replace(/ *\| */g, "|").replace(/-{3,}/g, "---")
    expect(cells(doc)).toContain(cells(settingsTable()))
    for (const s of SETTINGS) expect(doc).toContain(`\`${s.env}\``)
  })
})
