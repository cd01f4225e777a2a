// core/rag/blobs — documents' original bytes on disk under <data dir>/documents/<2 hex>/<sha256>,
// named by their hash so a re-upload is the same file. Writes are durable before they return
// (temp file, fsync, rename, fsync of the folder): the 202 of an upload promises the bytes survive.
import { createHash } from "node:crypto"
import { mkdirSync } from "node:fs"
import { open, readFile, rename, rm, stat } from "node:fs/promises"
import { join } from "node:path"

export const sha256Hex = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex")

export class BlobStore {
  constructor(readonly dir: string) {}

  path(hash: string): string {
    if (!/^[0-9a-f]{64}$/.test(hash)) throw new RangeError(`not a SHA-256: ${hash}`)
    return join(this.dir, hash.slice(0, 2), hash)
  }

  /** Store bytes whose SHA-256 is `hash`; returns once they are on disk (fsynced). Idempotent. */
  async put(hash: string, bytes: Uint8Array): Promise<void> {
    const target = this.path(hash)
    if (await this.has(hash)) return
    const folder = join(this.dir, hash.slice(0, 2))
    mkdirSync(folder, { recursive: true })
    const tmp = `${target}.${process.pid}.${Date.now()}.tmp`
    const fh = await open(tmp, "w", 0o600)
    try {
      await fh.writeFile(bytes)
      await fh.sync()
    } finally {
      await fh.close()
    }
    await rename(tmp, target)
    // The rename itself is durable only once the folder entry is.
    const dh = await open(folder, "r")
    try {
      await dh.sync()
    } finally {
      await dh.close()
    }
  }

  async has(hash: string): Promise<boolean> {
    return (await stat(this.path(hash)).catch(() => null))?.isFile() ?? false
  }

  /** The bytes, or null when the file is gone (deleted, or the volume was lost). */
  async get(hash: string): Promise<Uint8Array | null> {
    return readFile(this.path(hash)).then(
      (b) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength),
      () => null,
    )
  }

  async remove(hash: string): Promise<void> {
    await rm(this.path(hash), { force: true })
  }
}
