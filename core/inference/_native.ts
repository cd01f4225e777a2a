// core/inference/_native — loads node-llama-cpp and its native addon: in dev as node-llama-cpp
// resolves it from node_modules; in the compiled binary from the CPU build embedded in it and
// unpacked once to a cache folder. Never import node-llama-cpp values anywhere else (types only):
// in the compiled binary its module graph must be evaluated after `nodeLlamaCpp()` prepares it.
//
// Why the detours (node-llama-cpp 3.22, Bun 1.4 `--compile`):
// - its config reads `<dist>/../llama/binariesGithubRelease.json` at import time (top-level await);
//   bundled, that is `/$bunfs/llama/…`, which no embedding can create. We answer that one read.
// - `getLlama()` finds prebuilt binaries only inside node_modules packages (or `<dist>/../bins`) and
//   has no option for another folder, so compiled we dlopen the addon ourselves and hand it to
//   `Llama._create`, the same internal factory `getLlama()` ends in (pinned to 3.22.x).
// - the addon needs its .so siblings on a real disk (RUNPATH $ORIGIN, ggml loads backends by path).
// The build must mark the platform packages external: `bun build --compile --external '@node-llama-cpp/*'`.
import { chmod, mkdir, rename, rm } from "node:fs/promises"
import fs from "node:fs"
import { join } from "node:path"
import type * as NodeLlamaCpp from "node-llama-cpp"
import type { Llama, LlamaLogLevel } from "node-llama-cpp"
import { CelluleError } from "../errors.ts"
import releaseInfo from "../../node_modules/node-llama-cpp/llama/binariesGithubRelease.json"

/** True inside a `bun build --compile` binary. */
export const isCompiled = import.meta.path.startsWith("/$bunfs/")

let modulePromise: Promise<typeof NodeLlamaCpp> | undefined

/** node-llama-cpp itself, imported once; the only way other modules should get its values. */
export function nodeLlamaCpp(): Promise<typeof NodeLlamaCpp> {
  modulePromise ??= (async () => {
    if (!isCompiled) return import("node-llama-cpp")
    const restore = answerReleaseFileRead()
    try {
      return await import("node-llama-cpp")
    } finally {
      restore()
    }
  })()
  return modulePromise
}

export type LoadLlamaOptions = {
  gpu: "auto" | false
  /** Upper bound for llama.cpp's worker threads. */
  threads: number
  /** Where the compiled binary unpacks the native files (`<dataDir>/cache/native`); unused in dev. */
  nativeCacheDir: string
  logger: (level: LlamaLogLevel, message: string) => void
}

/** A ready `Llama` (the native backend). Compiled binaries embed only the linux-x64 CPU build. */
export async function loadLlama(opts: LoadLlamaOptions): Promise<Llama> {
  const nlc = await nodeLlamaCpp()
  const logLevel = nlc.LlamaLogLevel.warn
  if (!isCompiled) {
    // "never": a service must not start compiling llama.cpp from source when a prebuilt is missing
    return nlc.getLlama({ gpu: opts.gpu, maxThreads: opts.threads, build: "never", logger: opts.logger, logLevel })
  }
  if (process.platform !== "linux" || process.arch !== "x64")
    throw new CelluleError(
      "native_unsupported",
      `this binary embeds llama.cpp for linux-x64 only, not ${process.platform}-${process.arch}`,
      500,
    )
  const dir = await unpackNative(opts.nativeCacheDir)
  const addonPath = join(dir, "llama-addon.node")
  const addon = { exports: {} as unknown }
  process.dlopen(addon, addonPath)
  const buildMetadata = await Bun.file(join(dir, "_nlcBuildMetadata.json")).json()
  const internal = nlc.Llama as unknown as { _create(options: Record<string, unknown>): Promise<Llama> }
  return internal._create({
    bindings: addon.exports,
    bindingPath: addonPath,
    extBackendsPath: undefined,
    buildType: "prebuilt",
    buildMetadata,
    logLevel,
    logger: opts.logger,
    maxThreads: opts.threads,
    vramPadding: 0,
    // getLlama's default on Linux: keep a quarter of RAM, at most 1 GiB, out of its estimates
    ramPadding: (total: number) => Math.floor(Math.min(total * 0.25, 1024 ** 3)),
    skipLlamaInit: false,
    debug: false,
    numa: false,
    tempDir: false,
  })
}

/**
 * Answers reads of the missing `/$bunfs/…/llama/binariesGithubRelease.json` while node-llama-cpp's
 * modules evaluate. graceful-fs (under fs-extra, which only node-llama-cpp uses) copies `fs.readFile`
 * when it first loads, inside that import, so it keeps the wrapper; the global is restored right after.
 */
function answerReleaseFileRead(): () => void {
  const original = fs.readFile
  const body = Buffer.from(JSON.stringify(releaseInfo))
  const wrapper = function (this: unknown, path: unknown, ...rest: unknown[]) {
    const callback = rest[rest.length - 1]
    if (
      typeof path === "string" &&
      path.startsWith("/$bunfs/") &&
      path.endsWith("/llama/binariesGithubRelease.json") &&
      typeof callback === "function"
    ) {
      queueMicrotask(() => callback(null, body))
      return
    }
    return (original as (...args: unknown[]) => unknown).call(this, path, ...rest)
  }
  ;(fs as { readFile: unknown }).readFile = wrapper
  return () => {
    if (fs.readFile === (wrapper as unknown)) (fs as { readFile: unknown }).readFile = original
  }
}

type Embedded = [name: string, load: () => Promise<{ default: string }>]

// Literal paths so `bun build --compile` embeds each file; never evaluated in dev. The versioned
// names (libllama.v0.5.0.so) break the build loudly when node-llama-cpp updates its llama.cpp.
// biome-ignore format: a data table, one embedded file per line
const LINUX_X64_CPU: Embedded[] = [
  ["_nlcBuildMetadata.json", () => import("../../node_modules/@node-llama-cpp/linux-x64/bins/linux-x64/_nlcBuildMetadata.json", { with: { type: "file" } })],
  // @ts-expect-error native asset, no type declaration
  ["libggml-base.so", () => import("../../node_modules/@node-llama-cpp/linux-x64/bins/linux-x64/libggml-base.so", { with: { type: "file" } })],
  // @ts-expect-error native asset, no type declaration
  ["libggml-cpu-alderlake.so", () => import("../../node_modules/@node-llama-cpp/linux-x64/bins/linux-x64/libggml-cpu-alderlake.so", { with: { type: "file" } })],
  // @ts-expect-error native asset, no type declaration
  ["libggml-cpu-cannonlake.so", () => import("../../node_modules/@node-llama-cpp/linux-x64/bins/linux-x64/libggml-cpu-cannonlake.so", { with: { type: "file" } })],
  // @ts-expect-error native asset, no type declaration
  ["libggml-cpu-cascadelake.so", () => import("../../node_modules/@node-llama-cpp/linux-x64/bins/linux-x64/libggml-cpu-cascadelake.so", { with: { type: "file" } })],
  // @ts-expect-error native asset, no type declaration
  ["libggml-cpu-cooperlake.so", () => import("../../node_modules/@node-llama-cpp/linux-x64/bins/linux-x64/libggml-cpu-cooperlake.so", { with: { type: "file" } })],
  // @ts-expect-error native asset, no type declaration
  ["libggml-cpu-haswell.so", () => import("../../node_modules/@node-llama-cpp/linux-x64/bins/linux-x64/libggml-cpu-haswell.so", { with: { type: "file" } })],
  // @ts-expect-error native asset, no type declaration
  ["libggml-cpu-icelake.so", () => import("../../node_modules/@node-llama-cpp/linux-x64/bins/linux-x64/libggml-cpu-icelake.so", { with: { type: "file" } })],
  // @ts-expect-error native asset, no type declaration
  ["libggml-cpu-ivybridge.so", () => import("../../node_modules/@node-llama-cpp/linux-x64/bins/linux-x64/libggml-cpu-ivybridge.so", { with: { type: "file" } })],
  // @ts-expect-error native asset, no type declaration
  ["libggml-cpu-piledriver.so", () => import("../../node_modules/@node-llama-cpp/linux-x64/bins/linux-x64/libggml-cpu-piledriver.so", { with: { type: "file" } })],
  // @ts-expect-error native asset, no type declaration
  ["libggml-cpu-sandybridge.so", () => import("../../node_modules/@node-llama-cpp/linux-x64/bins/linux-x64/libggml-cpu-sandybridge.so", { with: { type: "file" } })],
  // @ts-expect-error native asset, no type declaration
  ["libggml-cpu-sapphirerapids.so", () => import("../../node_modules/@node-llama-cpp/linux-x64/bins/linux-x64/libggml-cpu-sapphirerapids.so", { with: { type: "file" } })],
  // @ts-expect-error native asset, no type declaration
  ["libggml-cpu-skylakex.so", () => import("../../node_modules/@node-llama-cpp/linux-x64/bins/linux-x64/libggml-cpu-skylakex.so", { with: { type: "file" } })],
  // @ts-expect-error native asset, no type declaration
  ["libggml-cpu-sse42.so", () => import("../../node_modules/@node-llama-cpp/linux-x64/bins/linux-x64/libggml-cpu-sse42.so", { with: { type: "file" } })],
  // @ts-expect-error native asset, no type declaration
  ["libggml-cpu-x64.so", () => import("../../node_modules/@node-llama-cpp/linux-x64/bins/linux-x64/libggml-cpu-x64.so", { with: { type: "file" } })],
  // @ts-expect-error native asset, no type declaration
  ["libggml-cpu-zen4.so", () => import("../../node_modules/@node-llama-cpp/linux-x64/bins/linux-x64/libggml-cpu-zen4.so", { with: { type: "file" } })],
  // @ts-expect-error native asset, no type declaration
  ["libggml.v0.5.0.so", () => import("../../node_modules/@node-llama-cpp/linux-x64/bins/linux-x64/libggml.v0.5.0.so", { with: { type: "file" } })],
  // @ts-expect-error native asset, no type declaration
  ["libllama-common.so", () => import("../../node_modules/@node-llama-cpp/linux-x64/bins/linux-x64/libllama-common.so", { with: { type: "file" } })],
  // @ts-expect-error native asset, no type declaration
  ["libllama.v0.5.0.so", () => import("../../node_modules/@node-llama-cpp/linux-x64/bins/linux-x64/libllama.v0.5.0.so", { with: { type: "file" } })],
  // @ts-expect-error native asset, no type declaration
  ["llama-addon.node", () => import("../../node_modules/@node-llama-cpp/linux-x64/bins/linux-x64/llama-addon.node", { with: { type: "file" } })],
]

/**
 * Copies the embedded files to `<cacheDir>/<version>-linux-x64/` once. The folder is filled under a
 * temporary name and renamed into place, so concurrent processes never see a half-written one.
 */
export async function unpackNative(cacheDir: string): Promise<string> {
  const { version } = await import("../../node_modules/@node-llama-cpp/linux-x64/package.json")
  const dir = join(cacheDir, `${version}-linux-x64`)
  if (await Bun.file(join(dir, ".complete")).exists()) return dir
  const staging = `${dir}.tmp-${process.pid}-${Date.now()}`
  try {
    await mkdir(staging, { recursive: true })
    for (const [name, load] of LINUX_X64_CPU) {
      const target = join(staging, name)
      await Bun.write(target, Bun.file((await load()).default))
      await chmod(target, 0o755)
    }
    await Bun.write(join(staging, ".complete"), "")
    await rename(staging, dir).catch(async (err) => {
      // another process published the same folder first; theirs is as good as ours
      if (!(await Bun.file(join(dir, ".complete")).exists())) throw err
    })
  } catch (err) {
    throw new CelluleError(
      "native_unpack_failed",
      `could not unpack llama.cpp to ${dir}: ${err}`,
      500,
      "the cache folder must be writable and not mounted noexec",
      { cause: err },
    )
  } finally {
    await rm(staging, { recursive: true, force: true })
  }
  return dir
}
