// core/workers/download — a worker fetches its GGUF from its pool: resumes with HTTP Range after a
// cut, verifies SHA-256, logs progress, keeps a size-limited cache (least recently used goes first)
// and only ever renames a fully verified file into place, so a partial file is never loaded.
import {
  closeSync,
  existsSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
  writeSync,
} from "node:fs"
import { join } from "node:path"
import { CelluleError } from "../errors.ts"
import { logger } from "../log.ts"
import { sha256File } from "../crypto/hash.ts"

const log = logger("workers.download")

export class ModelCorrupt extends CelluleError {
  constructor(file: string, got: string, want: string) {
    super(
      "model_corrupt",
      `${file} does not match its SHA-256 (got ${got.slice(0, 12)}…, want ${want.slice(0, 12)}…); the partial file was deleted`,
      502,
    )
  }
}

export interface ModelDownload {
  url: string
  token: string
  fileName: string
  size: number
  sha256: string
  cacheDir: string
  /** Cache size limit in bytes. */
  limitBytes: number
  maxAttempts?: number
  /** Test seam: the HTTP client. */
  fetch?: typeof fetch
}

const SIDE = ".sha256"

/** The cached, verified file if present (and marks it recently used). */
export function cachedModel(cacheDir: string, fileName: string, sha256: string): string | undefined {
  const path = join(cacheDir, fileName)
  try {
    if (readFileSync(path + SIDE, "utf8").trim() === sha256 && existsSync(path)) {
      const now = new Date()
      utimesSync(path, now, now)
      return path
    }
  } catch {
    // not cached
  }
  return undefined
}

/** Make room for `need` bytes by deleting least recently used models (never those in `keep`). */
export function ensureCacheSpace(cacheDir: string, need: number, limitBytes: number, keep: string[] = []) {
  if (need > limitBytes) {
    throw new CelluleError(
      "model_cache_too_small",
      `the model needs ${need} bytes but the worker's cache limit is ${limitBytes}`,
      507,
      "raise CELLULE_MODEL_CACHE_MB",
    )
  }
  mkdirSync(cacheDir, { recursive: true })
  const files = readdirSync(cacheDir)
    .filter((n) => n.endsWith(".gguf") || n.endsWith(".gguf.part"))
    .map((n) => ({ n, st: statSync(join(cacheDir, n)) }))
  let used = files.reduce((s, f) => s + f.st.size, 0)
  const evictable = files
    .filter((f) => !keep.some((k) => f.n === k || f.n === `${k}.part`))
    .sort((a, b) => a.st.mtimeMs - b.st.mtimeMs)
  for (const f of evictable) {
    if (used + need <= limitBytes) break
    unlinkSync(join(cacheDir, f.n))
    try {
      unlinkSync(join(cacheDir, f.n + SIDE))
    } catch {
      // no sidecar (partial file)
    }
    used -= f.st.size
    log.info(`cache: evicted ${f.n} (${f.st.size} bytes) to stay under ${limitBytes} bytes`)
  }
  if (used + need > limitBytes) {
    throw new CelluleError(
      "model_cache_full",
      `cannot free ${need} bytes in the model cache (limit ${limitBytes})`,
      507,
      "raise CELLULE_MODEL_CACHE_MB",
    )
  }
}

/** Download (or resume) a model into the cache and return the verified file's path. */
export async function downloadModel(d: ModelDownload): Promise<string> {
  const hit = cachedModel(d.cacheDir, d.fileName, d.sha256)
  if (hit) return hit
  const final = join(d.cacheDir, d.fileName)
  const part = `${final}.part`
  const partSize = existsSync(part) ? statSync(part).size : 0
  ensureCacheSpace(d.cacheDir, d.size - Math.min(partSize, d.size), d.limitBytes, [d.fileName])
  const doFetch = d.fetch ?? fetch
  const maxAttempts = d.maxAttempts ?? 8
  let lastLogged = -1
  for (let attempt = 1; ; attempt++) {
    let offset = existsSync(part) ? statSync(part).size : 0
    if (offset > d.size) {
      unlinkSync(part)
      offset = 0
    }
    if (offset === d.size) break
    try {
      const res = await doFetch(d.url, {
        headers: { authorization: `Bearer ${d.token}`, ...(offset > 0 ? { range: `bytes=${offset}-` } : {}) },
      })
      if (res.status === 416 && offset === d.size) break
      if (res.status !== 200 && res.status !== 206) {
        const body = await res.text().catch(() => "")
        throw new CelluleError(
          "model_download_failed",
          `pool answered ${res.status} for ${d.fileName}: ${body.slice(0, 200)}`,
          502,
        )
      }
      // 200 means the server ignored our Range: start over rather than append the whole file again.
      const start =
        res.status === 206 ? Number(/bytes (\d+)-/.exec(res.headers.get("content-range") ?? "")?.[1] ?? -1) : 0
      if (start !== 0 && start !== offset)
        throw new CelluleError("model_download_failed", `pool resumed at byte ${start}, expected ${offset}`, 502)
      if (offset > 0) log.info(`${d.fileName}: resuming at ${offset} of ${d.size} bytes`)
      const fd = openSync(part, start === 0 ? "w" : "a")
      let written = start
      try {
        if (start === 0) ftruncateSync(fd, 0)
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          writeSync(fd, chunk)
          written += chunk.length
          const pct = Math.floor((written / d.size) * 10) * 10
          if (pct !== lastLogged) {
            lastLogged = pct
            log.info(`${d.fileName}: ${pct}% (${written} / ${d.size} bytes)`)
          }
        }
      } finally {
        closeSync(fd)
      }
      if (written >= d.size) break
      throw new Error(`connection ended at byte ${written} of ${d.size}`)
    } catch (e) {
      if (e instanceof CelluleError || attempt >= maxAttempts) throw e
      const delay = Math.min(10_000, 250 * 2 ** attempt) * (0.5 + Math.random() / 2)
      log.warn(`${d.fileName}: download interrupted (${(e as Error).message}); resuming in ${Math.round(delay)} ms`)
      await Bun.sleep(delay)
    }
  }
  const got = await sha256File(part)
  if (got !== d.sha256) {
    unlinkSync(part)
    throw new ModelCorrupt(d.fileName, got, d.sha256)
  }
  renameSync(part, final)
  writeFileSync(final + SIDE, d.sha256)
  log.info(`${d.fileName}: verified (sha256 ${got.slice(0, 12)}…) and cached`)
  return final
}
