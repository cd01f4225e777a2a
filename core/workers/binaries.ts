// core/workers/binaries — the cellule binaries a pool ships to installers and self-updating workers:
// files named cellule-<os>-<arch>[.exe] in CELLULE_WORKER_BINARIES, or the pool's own executable for
// its own OS/arch when it runs compiled. Hashes are computed once per file version.
import { statSync } from "node:fs"
import { basename, join } from "node:path"
import type { Config } from "../config/index.ts"
import { NotFound } from "../errors.ts"
import { VERSION } from "../version.ts"
import { sha256File } from "../crypto/hash.ts"

export interface ShippedBinary {
  name: string
  path: string
  size: number
  sha256: string
  version: string
}

const NAME = /^cellule-(linux|macos|windows)-(x64|arm64)(\.exe)?$/

export function targetName(os: string, arch: string): string {
  const o = os === "darwin" ? "macos" : os === "win32" ? "windows" : os
  return `cellule-${o}-${arch}${o === "windows" ? ".exe" : ""}`
}

export function runningCompiled(): boolean {
  return !/^bun(\.exe)?$/.test(basename(process.execPath))
}

const hashes = new Map<string, { key: string; sha256: string }>()

async function describe(name: string, path: string, version: string): Promise<ShippedBinary> {
  const st = statSync(path)
  const key = `${st.size}:${st.mtimeMs}`
  let h = hashes.get(path)
  if (h?.key !== key) {
    h = { key, sha256: await sha256File(path) }
    hashes.set(path, h)
  }
  return { name, path, size: st.size, sha256: h.sha256, version }
}

/** The binary shipped under `name`; 404 binary_not_found when this pool has none for that target. */
export async function binaryFor(config: Readonly<Config>, name: string): Promise<ShippedBinary> {
  if (!NAME.test(name)) throw new NotFound(`no binary ${name}`, "binary_not_found")
  if (config.workerBinariesDir) {
    const path = join(config.workerBinariesDir, name)
    try {
      if (statSync(path).isFile()) {
        let version = VERSION
        const side = Bun.file(`${path}.version`)
        if (await side.exists()) version = (await side.text()).trim() || VERSION
        return await describe(name, path, version)
      }
    } catch {
      // fall through to the pool's own binary
    }
  }
  if (runningCompiled() && name === targetName(process.platform, process.arch))
    return describe(name, process.execPath, VERSION)
  throw new NotFound(`this pool ships no ${name} (put it in CELLULE_WORKER_BINARIES)`, "binary_not_found")
}
