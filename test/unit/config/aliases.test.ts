// The admin guide's variable names (IAMINE_*, FEDERATION_*, LICENSE_KEY…) as aliases of CELLULE_* settings,
// and the boot report of unknown CELLULE_* / IAMINE_* variables.
import { describe, expect, test } from "bun:test"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import {
  ALIASES,
  configWarnings,
  loadConfig,
  resolveAliases,
  SETTINGS,
  unknownVariables,
} from "../../../core/config/index.ts"
import { aliasTable } from "../../../core/config/doc.ts"
import { PRIVATE_KEY_FILE as CONFIG_KEY_FILE } from "../../../core/config/aliases.ts"
import { PRIVATE_KEY_FILE } from "../../../core/federation/identity.ts"
import { ConfigError } from "../../../core/errors.ts"

describe("guide aliases", () => {
  test("IAMINE_FED=off turns federation off, with one warning naming CELLULE_FED", () => {
    expect(loadConfig("pool", {}, {}).fedMode).toBe("active")
    expect(loadConfig("pool", {}, { IAMINE_FED: "off" }).fedMode).toBe("off")
    const w = configWarnings({ IAMINE_FED: "off" })
    expect(w).toEqual([`IAMINE_FED is the guide's name of CELLULE_FED: read as CELLULE_FED="off"`])
  })

  test("when both names are set and differ, the CELLULE_ one wins and a warning says so", () => {
    const env = { IAMINE_FED: "off", CELLULE_FED: "observe" }
    expect(loadConfig("pool", {}, env).fedMode).toBe("observe")
    expect(configWarnings(env)).toEqual([
      `IAMINE_FED="off" and CELLULE_FED="observe" are both set and differ: CELLULE_FED wins`,
    ])
  })

  test("a secret's value (LICENSE_KEY) never appears in the warnings", () => {
    const w = configWarnings({ LICENSE_KEY: "eyJ.secret.sig", CELLULE_LICENSE_KEY: "eyJ.other.sig" })
    expect(w).toEqual([
      `LICENSE_KEY=[redacted] and CELLULE_LICENSE_KEY=[redacted] are both set and differ: CELLULE_LICENSE_KEY wins`,
    ])
    expect(configWarnings({ LICENSE_KEY: "eyJ.secret.sig" }).join()).not.toContain("secret")
  })

  test("a flag still beats an alias (flag > env)", () => {
    expect(loadConfig("pool", { fed: "observe" }, { IAMINE_FED: "off" }).fedMode).toBe("observe")
  })

  test("every guide name of §1.3 and §4.5 is in the table; each mapped one reaches its setting", () => {
    // The names of the admin guide §1.3 and §4.5 that are not already Cellule settings.
    const guide = [
      "IAMINE_EMBEDDER_PATH",
      "FEDERATION_SELF_PRIVKEY_PATH",
      "FEDERATION_SELF_ATOM_ID",
      "LICENSE_KEY",
      "FORWARDING_ENABLED",
      "IAMINE_FED_KEY_DIR",
      "IAMINE_BOND_PEERS",
      "IAMINE_FED",
      "IAMINE_FED_GOSSIP_ENABLED",
    ]
    const named = new Set(ALIASES.map((a) => a.name))
    for (const n of guide) expect(named.has(n)).toBe(true)
    for (const n of ["CELLULE_ENTERPRISE", "CELLULE_DEBUG_INGEST", "ADMIN_PASSWORD"]) expect(named.has(n)).toBe(true)
    const envs = new Set(SETTINGS.map((s) => s.env))
    for (const a of ALIASES) if (a.env) expect(envs.has(a.env)).toBe(true)
  })

  test("values reach the typed config under the guide's names", () => {
    const c = loadConfig(
      "pool",
      {},
      {
        IAMINE_FED_GOSSIP_ENABLED: "false",
        IAMINE_FED_KEY_DIR: "/var/lib/cellule/fed-keys",
        IAMINE_BOND_PEERS: "pool-paris.local:18091,pool-lyon.local:18091",
        FEDERATION_SELF_ATOM_ID: "atom_0123",
        LICENSE_KEY: "eyJ.token",
        FORWARDING_ENABLED: "false",
      },
    )
    expect(c.fedGossipEnabled).toBe(false)
    expect(c.fedKeyDir).toBe("/var/lib/cellule/fed-keys")
    expect(c.bondPeers).toEqual(["pool-paris.local:18091", "pool-lyon.local:18091"])
    expect(c.fedAtomId).toBe("atom_0123")
    expect(c.licenseKey).toBe("eyJ.token")
    expect(c.forwarding).toBe(false)
    expect(JSON.stringify(c)).not.toContain("eyJ.token")
    expect(loadConfig("worker", {}, { IAMINE_EMBEDDER_PATH: "/opt/minilm" }).embedderPath).toBe("/opt/minilm")
  })

  test("FEDERATION_SELF_PRIVKEY_PATH gives the key's folder, and refuses another file name", () => {
    expect(CONFIG_KEY_FILE).toBe(PRIVATE_KEY_FILE)
    const env = { FEDERATION_SELF_PRIVKEY_PATH: `/keys/${PRIVATE_KEY_FILE}` }
    expect(loadConfig("pool", {}, env).fedKeyDir).toBe("/keys")
    expect(() => resolveAliases({ FEDERATION_SELF_PRIVKEY_PATH: "/keys/self_ed25519.key" })).toThrow(ConfigError)
  })

  test("a guide name with no setting is accepted and reported as having no effect", () => {
    const w = configWarnings({ CELLULE_ENTERPRISE: "1", ADMIN_PASSWORD: "x" })
    expect(w).toHaveLength(2)
    expect(w[0]).toContain("CELLULE_ENTERPRISE is set but has no effect")
    expect(w[1]).toContain("ADMIN_PASSWORD is set but has no effect")
  })
})

describe("unknown variables", () => {
  test("a typo is reported with a did-you-mean; known names and other prefixes are not", () => {
    expect(unknownVariables({ IAMINE_FEDD: "off" })).toEqual([
      "IAMINE_FEDD is not a Cellule setting and is ignored (did you mean IAMINE_FED?)",
    ])
    expect(unknownVariables({ CELLULE_WORKER_TOKN: "x" })[0]).toContain("did you mean CELLULE_WORKER_TOKEN?")
    expect(unknownVariables({ CELLULE_TOTALLY_UNRELATED_THING_XYZ: "1" })).toEqual([
      "CELLULE_TOTALLY_UNRELATED_THING_XYZ is not a Cellule setting and is ignored",
    ])
    expect(unknownVariables({ CELLULE_FED: "off", IAMINE_FED: "off", HOME: "/root", PATH: "/bin" })).toEqual([])
  })

  test("an IAMINE_ spelling of a CELLULE_ setting suggests the CELLULE_ name", () => {
    expect(unknownVariables({ IAMINE_FED_GOSSIP_MS: "200" })[0]).toContain("did you mean CELLULE_FED_GOSSIP_MS?")
  })
})

test("docs/configuration.md holds the generated alias table", () => {
  const doc = readFileSync(join(import.meta.dir, "../../../docs/configuration.md"), "utf8")
  const cells = (md: string) => md.replace(/ *\| */g, "|").replace(/-{3,}/g, "---")
  expect(cells(doc)).toContain(cells(aliasTable()))
})
