// core/catalog/copy — one model file copied over HTTP from another pool (a satellite from its catalogue
// master, admin guide §4.6.3), so the satellite's workers download on their own LAN. The bytes land in
// a hidden part file next to the store; an interrupted copy resumes from the part file's length with an
// HTTP Range request; the whole file is hashed before it is renamed into place, so a truncated or
// corrupt copy is never listed nor served. Progress is logged under cellule.catalogue.
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from "node:fs"
import { dirname, join } from "node:path"
import { sha256File } from "../crypto/hash.ts"
import { CelluleError } from "../errors.ts"
import { logger } from "../log.ts"

const log = logger("catalogue")

export class CopyFailed extends CelluleError {
  constructor(message: string) {
    super("model_copy_failed", message, 502)
  }
}

/** The part file of a copy in progress: hidden (never listed), named by content so it resumes across restarts. */
export const copyPartPath = (dest: string, sha256: string) =>
  join(dirname(dest), `.copy-${sha256.slice(0, 16)}-${dest.slice(dirname(dest).length + 1)}.part`)

export interface CopyResult {
  /** Bytes already present when this copy started (resumed with Range), 0 for a fresh copy. */
  resumed_from: number
  /** Bytes received by this call. */
  received: number
}

function writeAll(fd: number, bytes: Uint8Array) {
  let done = 0
  while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done)
}

/**
 * Copies `url` to `dest`, expecting `size` bytes hashing to `sha256`. `headers` is called once per
 * request (a signed pool-to-pool request carries a fresh nonce each time). Throws CopyFailed on a
 * refused, short or corrupt transfer; what was received intact is kept for the next try, unless the
 * finished file does not hash right (then it is removed and the next try starts over).
 */
export async function copyModelFile(o: {
  url: string
  headers: () => Record<string, string>
  dest: string
  size: number
  sha256: string
  signal?: AbortSignal
  timeoutMs?: number
  /** Called at most every progressMs with bytes held and the total. */
  onProgress?: (done: number, total: number) => void
  progressMs?: number
}): Promise<CopyResult> {
  const name = o.dest.slice(dirname(o.dest).length + 1)
  mkdirSync(dirname(o.dest), { recursive: true })
  const part = copyPartPath(o.dest, o.sha256)
  let have = existsSync(part) ? statSync(part).size : 0
  if (have > o.size) {
    unlinkSync(part)
    have = 0
  }
  const resumedFrom = have
  let received = 0
  if (have < o.size) {
    const headers = { ...o.headers(), ...(have > 0 ? { range: `bytes=${have}-` } : {}) }
    let res: Response
    try {
      res = await fetch(o.url, {
        headers,
        redirect: "manual",
        signal: o.signal ?? (o.timeoutMs ? AbortSignal.timeout(o.timeoutMs) : undefined),
      })
    } catch (e) {
      throw new CopyFailed(`copy of ${name} from ${o.url}: ${(e as Error).message}`)
    }
    if (res.status !== 200 && res.status !== 206) {
      const text = await res.text().catch(() => "")
      throw new CopyFailed(`copy of ${name} from ${o.url}: the master answered ${res.status} ${text.slice(0, 300)}`)
    }
    if (res.status === 206) {
      const m = /^bytes (\d+)-/.exec(res.headers.get("content-range") ?? "")
      if (!m || Number(m[1]) !== have) {
        // A body that already failed (connection reset) rejects its cancel: unhandled, Bun would end the process.
        res.body?.cancel().catch(() => {})
        throw new CopyFailed(`copy of ${name}: the master answered a range that does not start at byte ${have}`)
      }
    } else if (have > 0) {
      // The whole file came back instead of the rest: start over.
      log.info(`copy of ${name}: the master sent the whole file, not the rest; starting over`)
      have = 0
    }
    if (have > 0) log.info(`copy of ${name}: resuming at byte ${have} of ${o.size} (Range)`)
    const fd = openSync(part, have > 0 ? "a" : "w", 0o644)
    let last = performance.now()
    try {
      for await (const chunk of (res.body ?? []) as unknown as AsyncIterable<Uint8Array>) {
        if (have + chunk.byteLength > o.size)
          throw new CopyFailed(`copy of ${name}: the master sent more than ${o.size} bytes`)
        writeAll(fd, chunk)
        have += chunk.byteLength
        received += chunk.byteLength
        if (o.onProgress && performance.now() - last >= (o.progressMs ?? 1000)) {
          last = performance.now()
          o.onProgress(have, o.size)
        }
      }
    } catch (e) {
      if (e instanceof CopyFailed) {
        closeSync(fd)
        unlinkSync(part)
        throw e
      }
      throw new CopyFailed(`copy of ${name} interrupted at byte ${have} of ${o.size}: ${(e as Error).message}`)
    } finally {
      try {
        fsyncSync(fd)
        closeSync(fd)
      } catch {}
    }
    o.onProgress?.(have, o.size)
    if (have < o.size)
      throw new CopyFailed(`copy of ${name} interrupted at byte ${have} of ${o.size}; it resumes from there`)
  }
  const got = await sha256File(part)
  if (got !== o.sha256) {
    unlinkSync(part)
    throw new CopyFailed(
      `copy of ${name} does not hash right (sha256 ${got.slice(0, 12)}…, expected ${o.sha256.slice(0, 12)}…); discarded`,
    )
  }
  renameSync(part, o.dest)
  return { resumed_from: resumedFrom, received }
}
