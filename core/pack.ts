// core/pack — the compressed bundles of native files and database assets the compiled binary embeds
// (llama.cpp, onnxruntime, PGlite), and their unpacking to a cache folder on first need.
//
// Why: embedded raw, these files were 92 MB of a 236 MB binary; zstd at level 19 keeps a third of
// that, and one solid frame per bundle shares the common code of llama.cpp's thirteen CPU variants
// (30 MB → 5 MB). install/build/packs.ts writes the bundles into .build/packs/ before `bun build`;
// the code that needs them imports one with `{ type: "file" }` inside a compiled-only branch and calls
// `unpack`, so `cellule --version` and every command that does not need them never read them.
//
// Format: "CLPACK1\n", u32 LE header length, header JSON ({id, files: [{name, size, mode}]}), then one
// zstd frame holding the files' bytes back to back. `id` hashes the uncompressed contents, so a new
// build unpacks to a new folder and never reuses a stale one.
import { chmod, mkdir, rename, rm } from "node:fs/promises"
import { join } from "node:path"

/** The format's version: install/build/packs.ts rebuilds a pack that does not start with it. */
export const MAGIC = "CLPACK1\n"

export interface PackedFile {
  name: string
  size: number
  mode: number
}

interface Header {
  id: string
  files: PackedFile[]
}

/** Builds a pack from files' bytes (build time only). */
export function pack(files: { name: string; mode: number; bytes: Uint8Array }[], level = 19): Uint8Array {
  const payload = Buffer.concat(files.map((f) => f.bytes))
  const header: Header = {
    id: Bun.hash(payload).toString(16).padStart(16, "0"),
    files: files.map((f) => ({ name: f.name, size: f.bytes.length, mode: f.mode })),
  }
  const json = Buffer.from(JSON.stringify(header))
  const length = Buffer.alloc(4)
  length.writeUInt32LE(json.length)
  return Buffer.concat([Buffer.from(MAGIC), length, json, Bun.zstdCompressSync(payload, { level })])
}

async function readHeader(packPath: string): Promise<{ header: Header; payloadOffset: number }> {
  const file = Bun.file(packPath)
  const start = Buffer.from(await file.slice(0, MAGIC.length + 4).arrayBuffer())
  if (start.subarray(0, MAGIC.length).toString() !== MAGIC) throw new Error(`${packPath} is not a cellule pack`)
  const length = start.readUInt32LE(MAGIC.length)
  const jsonStart = MAGIC.length + 4
  const header = JSON.parse(await file.slice(jsonStart, jsonStart + length).text()) as Header
  return { header, payloadOffset: jsonStart + length }
}

/**
 * Unpacks `packPath` into `<parentDir>/<name>-<id>/` unless that folder is already complete, and
 * returns it. Files are written into a staging folder renamed into place at the end, so a crash or a
 * concurrent process never leaves or sees a half-written folder; the loser of a race keeps the winner's.
 */
export async function unpack(packPath: string, parentDir: string, name: string): Promise<string> {
  const { header, payloadOffset } = await readHeader(packPath)
  const dir = join(parentDir, `${name}-${header.id}`)
  const complete = join(dir, ".complete")
  if (await Bun.file(complete).exists()) return dir
  const staging = `${dir}.tmp-${process.pid}-${crypto.randomUUID().slice(0, 8)}`
  try {
    await mkdir(staging, { recursive: true, mode: 0o700 })
    const payload = Bun.zstdDecompressSync(await Bun.file(packPath).slice(payloadOffset).bytes())
    let offset = 0
    for (const f of header.files) {
      const target = join(staging, f.name)
      await Bun.write(target, payload.subarray(offset, offset + f.size))
      await chmod(target, f.mode)
      offset += f.size
    }
    if (offset !== payload.length) throw new Error(`${packPath}: ${payload.length} bytes unpacked, ${offset} expected`)
    await Bun.write(join(staging, ".complete"), "")
    await rename(staging, dir).catch(async (err) => {
      // another process published the same folder first; theirs is as good as ours
      if (!(await Bun.file(complete).exists())) throw err
    })
  } finally {
    await rm(staging, { recursive: true, force: true })
  }
  return dir
}
