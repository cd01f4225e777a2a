// core/config/aliases — the admin guide's own variable names (§1.3, §4.5) as aliases of CELLULE_* settings,
// and the boot report of aliases used and of unknown CELLULE_* / IAMINE_* variables (a typo never passes silently).
// docs/configuration.md carries the alias table (generated, checked by a test like the settings table).
import { basename, dirname } from "node:path"
import { ConfigError } from "../errors.ts"
import { SETTINGS } from "./settings.ts"

/** The federation key's file name (core/federation/identity.ts PRIVATE_KEY_FILE; a unit test checks they agree). */
export const PRIVATE_KEY_FILE = "federation_self.privkey"

export interface Alias {
  /** The guide's name. */
  name: string
  /** The CELLULE_* (or other) setting it stands for; undefined: accepted, with no effect (`note` says why). */
  env?: string
  /** Turn the guide's value into the setting's (e.g. a key file path into its folder). */
  map?: (value: string) => string
  note: string
}

export const ALIASES: Alias[] = [
  { name: "IAMINE_FED", env: "CELLULE_FED", note: "§4.5 P5 federation master switch: active, observe or off." },
  {
    name: "WORKERS_AUTO_LATENCY_ROUTING",
    env: "CELLULE_WORKERS_AUTO_LATENCY_ROUTING",
    note: "§4.8 latency-based worker auto-routing (opt-in).",
  },
  { name: "IAMINE_FED_GOSSIP_ENABLED", env: "CELLULE_FED_GOSSIP_ENABLED", note: "§4.5 P5 application gossip." },
  { name: "IAMINE_FED_KEY_DIR", env: "CELLULE_FED_KEY_DIR", note: "§4.5 P2 folder of the Ed25519 key." },
  { name: "IAMINE_BOND_PEERS", env: "CELLULE_BOND_PEERS", note: "§4.5 P4 peers bonded at boot." },
  { name: "IAMINE_EMBEDDER_PATH", env: "CELLULE_EMBEDDER_PATH", note: "§1.3 local MiniLM-L6-v2 folder (worker)." },
  {
    name: "FEDERATION_SELF_PRIVKEY_PATH",
    env: "CELLULE_FED_KEY_DIR",
    map: (v) => {
      if (basename(v) !== PRIVATE_KEY_FILE)
        throw new ConfigError(
          `FEDERATION_SELF_PRIVKEY_PATH must name a file called ${PRIVATE_KEY_FILE}, got "${v}"`,
          `set CELLULE_FED_KEY_DIR to the folder holding ${PRIVATE_KEY_FILE} instead`,
        )
      return dirname(v)
    },
    note: `§1.3 the key file; its folder is used (the file must be named ${PRIVATE_KEY_FILE}).`,
  },
  {
    name: "FEDERATION_SELF_ATOM_ID",
    env: "CELLULE_FED_ATOM_ID",
    note: "§1.3 the atom_id is derived from the key: start-up stops if the key gives another one.",
  },
  { name: "LICENSE_KEY", env: "CELLULE_LICENSE_KEY", note: "§1.3 licence token installed at boot." },
  { name: "FORWARDING_ENABLED", env: "CELLULE_FORWARDING", note: "§1.3 forwarding to trusted peer pools." },
  {
    name: "CELLULE_ENTERPRISE",
    note: "§1.3 accepted, no effect: one binary; the installed licence decides the features.",
  },
  {
    name: "CELLULE_DEBUG_INGEST",
    note: "§4.5 P5 accepted, no effect: there is no ingest_inline debug endpoint (documents are ingested by the queue).",
  },
  {
    name: "ADMIN_PASSWORD",
    note: "§4.5 P5 accepted, no effect: the first admin comes from the wizard (CELLULE_SETUP_ANSWERS); rotate with `cellule admin-reset-password`.",
  },
]

/** Variables a process may see that are neither settings nor aliases (build, tests, licence key override). */
const OTHER_KNOWN = new Set(["CELLULE_LICENSE_PUBKEY", "CELLULE_BUILD_VERSION", "CELLULE_TEST_WORKER_BINARY"])

type Env = Record<string, string | undefined>

/**
 * The environment with each alias folded into its setting: a CELLULE_* value set too wins. Returns the
 * effective environment and one warning line per alias used (and per conflict).
 */
export function resolveAliases(env: Env): { env: Env; warnings: string[] } {
  const out: Env = { ...env }
  const warnings: string[] = []
  for (const a of ALIASES) {
    const raw = env[a.name]
    if (raw === undefined || raw === "") continue
    if (!a.env) {
      warnings.push(`${a.name} is set but has no effect: ${a.note}`)
      continue
    }
    const value = a.map ? a.map(raw) : raw
    const own = env[a.env]
    // A secret (the licence token) never reaches the log.
    const secret = SETTINGS.some((s) => s.env === a.env && s.secret)
    const shown = (v: string) => (secret ? "[redacted]" : `"${v}"`)
    if (own !== undefined && own !== "") {
      if (own !== value)
        warnings.push(`${a.name}=${shown(raw)} and ${a.env}=${shown(own)} are both set and differ: ${a.env} wins`)
      else warnings.push(`${a.name} is the guide's name of ${a.env} (both set, same value)`)
      continue
    }
    out[a.env] = value
    warnings.push(`${a.name} is the guide's name of ${a.env}: read as ${a.env}=${shown(value)}`)
  }
  return { env: out, warnings }
}

/** Levenshtein distance, for "did you mean". */
function distance(a: string, b: string): number {
  const d = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0]!
    d[0] = i
    for (let j = 1; j <= b.length; j++) {
      const tmp = d[j]!
      d[j] = Math.min(d[j]! + 1, d[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1))
      prev = tmp
    }
  }
  return d[b.length]!
}

/** Every name a process understands: settings, aliases and the few build/test variables. */
export function knownVariables(): string[] {
  return [...SETTINGS.map((s) => s.env), ...ALIASES.map((a) => a.name), ...OTHER_KNOWN]
}

/** One warning per CELLULE_* / IAMINE_* variable that nothing reads, with the closest known name. */
export function unknownVariables(env: Env): string[] {
  const known = knownVariables()
  const knownSet = new Set(known)
  const out: string[] = []
  for (const name of Object.keys(env).sort()) {
    if (!/^(CELLULE|IAMINE)_/.test(name) || knownSet.has(name)) continue
    let best = ""
    let bestD = Infinity
    for (const k of known) {
      const dd = distance(name, k)
      if (dd < bestD) [best, bestD] = [k, dd]
    }
    // The IAMINE_ prefix is the guide's: also try its CELLULE_ spelling.
    const swapped = name.replace(/^IAMINE_/, "CELLULE_")
    if (swapped !== name && knownSet.has(swapped)) [best, bestD] = [swapped, 0]
    const hint = bestD <= Math.max(2, Math.floor(name.length / 4)) ? ` (did you mean ${best}?)` : ""
    out.push(`${name} is not a Cellule setting and is ignored${hint}`)
  }
  return out
}

/** The alias table for docs/configuration.md. */
export function aliasTable(): string {
  const rows = ALIASES.map((a) => `| \`${a.name}\` | ${a.env ? `\`${a.env}\`` : "no effect"} | ${a.note} |`)
  return ["| guide name | setting | meaning |", "| --- | --- | --- |", ...rows].join("\n")
}
