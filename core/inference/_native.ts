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
// - the addon needs its .so siblings on a real disk (RUNPATH $ORIGIN, ggml loads backends by path):
//   the binary embeds them as one compressed pack (core/pack.ts, built by install/build/packs.ts).
// The build must mark the platform packages external: `bun build --compile --external '@node-llama-cpp/*'`.
import fs from "node:fs"
import { join } from "node:path"
import type * as NodeLlamaCpp from "node-llama-cpp"
import type { Llama, LlamaLogLevel } from "node-llama-cpp"
import { CelluleError } from "../errors.ts"
import { unpack } from "../pack.ts"
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

/**
 * Unpacks the embedded llama.cpp build (core/pack.ts) to `<cacheDir>/llama-linux-x64-<id>/` once and
 * returns that folder. Never evaluated in dev.
 */
export async function unpackNative(cacheDir: string): Promise<string> {
  try {
    const { default: packPath } = await import("../../.build/packs/llama-linux-x64.pack", { with: { type: "file" } })
    return await unpack(packPath, cacheDir, "llama-linux-x64")
  } catch (err) {
    throw new CelluleError(
      "native_unpack_failed",
      `could not unpack llama.cpp to ${cacheDir}: ${err}`,
      500,
      "the cache folder must be writable and not mounted noexec",
      { cause: err },
    )
  }
}
