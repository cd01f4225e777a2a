// core/db/_pristine — the data directory `initdb` produces, made once and unpacked at a pool's first
// boot instead of running initdb there. PGlite runs initdb in a second WASM instance and builds the
// cluster in memory before copying it to disk: a first boot peaked at ~890 MB and took 30-35 s
// (bench/README.md, memory). The cluster initdb writes is the same for every pool (the server is WASM,
// so one tarball serves every OS): the release build makes it (install/release/pgdata.ts) and embeds
// it; from the sources it is made on first use and kept under .cache/.
import { PGlite } from "@electric-sql/pglite"
import {
  closeSync,
  existsSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { isCompiled } from "../compiled.ts"
import { pgliteAssets } from "./_assets.ts"

/** The name the release build gives the tarball; a compiled binary finds it among Bun.embeddedFiles. */
export const PRISTINE_NAME = "pgdata"

const BLOCK = 512
const enc = new TextEncoder()
const dec = new TextDecoder()

/** One ustar header: paths in a fresh cluster are short (`base/5/2608_fsm`), so no long-name extension. */
function header(name: string, size: number, dir: boolean): Uint8Array {
  if (name.length > 99) throw new Error(`pgdata path too long for the tarball: ${name}`)
  const h = new Uint8Array(BLOCK)
  const put = (off: number, s: string) => h.set(enc.encode(s), off)
  const octal = (off: number, width: number, n: number) => put(off, `${n.toString(8).padStart(width - 1, "0")}\0`)
  put(0, name)
  octal(100, 8, dir ? 0o700 : 0o600)
  octal(108, 8, 0)
  octal(116, 8, 0)
  octal(124, 12, size)
  octal(136, 12, 0) // mtime 0: the same cluster gives the same bytes
  put(148, "        ")
  put(156, dir ? "5" : "0")
  put(257, "ustar\u000000")
  let sum = 0
  for (const b of h) sum += b
  put(148, `${sum.toString(8).padStart(6, "0")}\0 `)
  return h
}

/** `root` as a zstd-compressed tar of its directories and regular files, sorted, modes and times normalised. */
export function packDir(root: string): Uint8Array {
  const parts: Uint8Array[] = []
  const walk = (rel: string) => {
    for (const name of readdirSync(join(root, rel)).sort()) {
      const path = rel ? `${rel}/${name}` : name
      const st = lstatSync(join(root, path))
      if (st.isDirectory()) {
        parts.push(header(`${path}/`, 0, true))
        walk(path)
      } else if (st.isFile()) {
        const data = readFileSync(join(root, path))
        parts.push(header(path, data.length, false), data)
        const pad = (BLOCK - (data.length % BLOCK)) % BLOCK
        if (pad) parts.push(new Uint8Array(pad))
      }
    }
  }
  walk("")
  parts.push(new Uint8Array(BLOCK * 2))
  // 40 MB of tar: gzip makes 4.4 MB of it, zstd -19 1.6 MB (the three databases initdb writes are
  // near copies, and zstd's window spans them); it unpacks in under a second, once per data dir.
  return Bun.zstdCompressSync(Buffer.concat(parts), { level: 19 })
}

/**
 * Unpacks `tarball` into `dest` (which must not exist) through a sibling staging directory renamed at
 * the end: a crash part-way leaves no half cluster under `dest`, only a staging dir the next boot
 * removes. Directories 0700, files 0600, each file fsynced before the rename.
 */
export function unpackInto(tarball: Uint8Array, dest: string) {
  const tar = Bun.zstdDecompressSync(tarball)
  const staging = `${dest}.new-${process.pid}`
  rmSync(staging, { recursive: true, force: true })
  mkdirSync(staging, { mode: 0o700 })
  for (let off = 0; off + BLOCK <= tar.length; ) {
    const h = tar.subarray(off, off + BLOCK)
    if (h.every((b) => b === 0)) break
    const name = dec.decode(h.subarray(0, 100)).replace(/\0.*$/s, "")
    const size = Number.parseInt(dec.decode(h.subarray(124, 136)).replace(/\0.*$/s, "").trim() || "0", 8)
    const type = String.fromCharCode(h[156] ?? 0)
    // Our own tarball, embedded in the binary; still, nothing may land outside the staging dir.
    if (name.startsWith("/") || name.split("/").includes("..")) throw new Error(`bad path in pgdata tarball: ${name}`)
    off += BLOCK
    if (type === "5") mkdirSync(join(staging, name), { recursive: true, mode: 0o700 })
    else if (type === "0" || type === "\0") {
      mkdirSync(dirname(join(staging, name)), { recursive: true, mode: 0o700 })
      const fd = openSync(join(staging, name), "wx", 0o600)
      try {
        writeSync(fd, tar.subarray(off, off + size))
        fsyncSync(fd)
      } finally {
        closeSync(fd)
      }
    }
    off += Math.ceil(size / BLOCK) * BLOCK
  }
  if (!existsSync(join(staging, "PG_VERSION"))) throw new Error("pgdata tarball holds no PG_VERSION")
  renameSync(staging, dest)
}

/** Runs initdb (PGlite's, in WASM) into a temp dir, shuts the server down cleanly and packs the result. */
export async function makePristine(): Promise<Uint8Array> {
  const dir = mkdtempSync(join(tmpdir(), "cellule-pgdata-"))
  try {
    const assets = await pgliteAssets(join(dir, "cache"))
    const [pgliteWasmModule, initdbWasmModule] = await Promise.all([
      WebAssembly.compile(await Bun.file(assets.pgliteWasm).arrayBuffer()),
      WebAssembly.compile(await Bun.file(assets.initdbWasm).arrayBuffer()),
    ])
    const fsBundle = new Blob([await Bun.file(assets.pgliteData).arrayBuffer()])
    const pgdata = join(dir, "pgdata")
    const db = await PGlite.create({ dataDir: pgdata, pgliteWasmModule, initdbWasmModule, fsBundle })
    await db.close()
    return packDir(pgdata)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/**
 * The pristine tarball: embedded in a compiled binary; from the sources, the one cached for this
 * PGlite version (made now when missing). Undefined in a binary built without it: initdb then runs.
 */
export async function pristineTarball(): Promise<Uint8Array | undefined> {
  if (isCompiled) {
    const blob = Bun.embeddedFiles.find((f) => (f as Blob & { name?: string }).name?.startsWith(PRISTINE_NAME))
    return blob ? new Uint8Array(await blob.arrayBuffer()) : undefined
  }
  const pkg = join(import.meta.dir, "..", "..", "node_modules", "@electric-sql", "pglite", "package.json")
  const version = JSON.parse(readFileSync(pkg, "utf8")).version as string
  const cache = join(import.meta.dir, "..", "..", ".cache", "pglite")
  const file = join(cache, `${PRISTINE_NAME}-${version}.tar.zst`)
  if (existsSync(file)) return new Uint8Array(await Bun.file(file).arrayBuffer())
  const tarball = await makePristine()
  mkdirSync(cache, { recursive: true })
  // Several test processes may make it at once: each writes its own file, the last rename wins.
  const tmp = `${file}.${process.pid}.tmp`
  await Bun.write(tmp, tarball)
  renameSync(tmp, file)
  return tarball
}
