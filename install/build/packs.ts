// install/build/packs.ts — writes the compressed bundles the compiled binary embeds (core/pack.ts)
// into .build/packs/. Run before every `bun build --compile` (`npm run build` does, as its prebuild);
// a bundle newer than its sources and this script, in the current format, is kept, so a rebuild costs
// nothing here (level 19 takes minutes on a busy 2-core machine).
import { mkdirSync, readdirSync, renameSync, statSync } from "node:fs"
import { join } from "node:path"
import { MAGIC, pack } from "../../core/pack.ts"

const ROOT = join(import.meta.dir, "../..")
const OUT = join(ROOT, ".build/packs")
const nm = (p: string) => join(ROOT, "node_modules", p)

const LLAMA_DIR = nm("@node-llama-cpp/linux-x64/bins/linux-x64")
const ONNX_DIR = nm("onnxruntime-node/bin/napi-v6/linux/x64")

// name → files (the name each file gets in the unpacked folder → its source)
const PACKS: Record<string, Record<string, string>> = {
  // llama.cpp's linux-x64 CPU build: the addon, its libraries and every CPU variant ggml picks from
  "llama-linux-x64": Object.fromEntries(readdirSync(LLAMA_DIR).map((f) => [f, join(LLAMA_DIR, f)])),
  "onnxruntime-linux-x64": {
    "onnxruntime_binding.node": join(ONNX_DIR, "onnxruntime_binding.node"),
    "libonnxruntime.so.1": join(ONNX_DIR, "libonnxruntime.so.1"),
  },
  pglite: {
    "pglite.wasm": nm("@electric-sql/pglite/dist/pglite.wasm"),
    "initdb.wasm": nm("@electric-sql/pglite/dist/initdb.wasm"),
    "pglite.data": nm("@electric-sql/pglite/dist/pglite.data"),
    "vector.tar.gz": nm("@electric-sql/pglite-pgvector/dist/vector.tar.gz"),
  },
}

mkdirSync(OUT, { recursive: true })
const newest = (paths: string[]) => Math.max(...paths.map((p) => statSync(p).mtimeMs))
const tools = newest([import.meta.path])
for (const [name, files] of Object.entries(PACKS)) {
  const target = join(OUT, `${name}.pack`)
  const sources = Object.values(files)
  const built = statSync(target, { throwIfNoEntry: false })?.mtimeMs ?? 0
  const current = built > 0 && (await Bun.file(target).slice(0, MAGIC.length).text()) === MAGIC
  if (current && built > Math.max(tools, newest(sources))) continue
  const t0 = performance.now()
  const entries = await Promise.all(
    Object.entries(files).map(async ([file, source]) => ({
      name: file,
      mode: statSync(source).mode & 0o777 & ~0o022,
      bytes: await Bun.file(source).bytes(),
    })),
  )
  const bytes = pack(entries)
  const raw = entries.reduce((n, e) => n + e.bytes.length, 0)
  // write then rename: an interrupted build never leaves a truncated pack that looks up to date
  await Bun.write(`${target}.tmp`, bytes)
  renameSync(`${target}.tmp`, target)
  const mb = (n: number) => (n / 1e6).toFixed(1)
  console.log(`packs: ${name}.pack ${mb(raw)} → ${mb(bytes.length)} MB (${Math.round(performance.now() - t0)} ms)`)
}
