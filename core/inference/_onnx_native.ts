// core/inference/_onnx_native — readies onnxruntime-node (transformers.js's native backend): telemetry
// off everywhere, and loadable inside a `bun build --compile` binary. Never downloads; writes only under nativeCacheDir.
//
// Why: onnxruntime-node loads `bin/napi-v6/<os>/<arch>/onnxruntime_binding.node` (which needs
// `libonnxruntime.so.1` next to it, RUNPATH $ORIGIN) through require paths that do not exist in the
// binary's /$bunfs, and transformers.js requires "onnxruntime-node" at runtime with createRequire, so the
// bundler never sees it. In the compiled binary we therefore:
//   1. embed both native files as one compressed pack (core/pack.ts, written by install/build/packs.ts;
//      a dynamic `import(…, { with: { type: "file" } })`, evaluated only when compiled),
//   2. unpack it once into `<nativeCacheDir>/onnxruntime-node-<version>-linux-x64-<id>/` (atomic rename),
//      so the addon finds its library through $ORIGIN,
//   3. dlopen the addon from there and register a runtime virtual module "onnxruntime-node" built from
//      onnxruntime-common plus a small backend over that binding (what onnxruntime-node's
//      dist/backend.js does), and a stub "sharp" (transformers.js imports it for images; we never use it).
// transformers.js must be imported only after prepareOnnxRuntime() resolved, and only dynamically.
//
// Telemetry: onnxruntime >= 1.30 on Linux ships Microsoft 1DS telemetry (device id and an event store
// in ~/.cache/Microsoft/DeveloperTools/.onnxruntime, uploads to mobile.events.data.microsoft.com),
// off only when getenv("ORT_DISABLE_TELEMETRY") is set. Bun's `process.env` writes do not reach the C
// environment (transformers.js's own attempt is a no-op under Bun), so we call libc setenv, in dev too.
//
// Build: `bun build --compile --splitting --external sharp cmd/main.ts --outfile cellule`
// (without --splitting an external import is hoisted to startup, before our stub exists; without
// --external sharp, sharp is bundled and throws when transformers.js is imported). With the Bun.build
// API, `plugins: [sharpStubPlugin]` replaces both flags.
import { join } from "node:path"
import { isMainThread } from "node:worker_threads"
import type { BunPlugin } from "bun"
import { dlopen, FFIType } from "bun:ffi"
import * as ort from "onnxruntime-common"
import ortPackage from "onnxruntime-node/package.json"
import { CelluleError } from "../errors.ts"
import { logger } from "../log.ts"
import { unpack } from "../pack.ts"

const log = logger("inference")

/** True inside a `bun build --compile` binary, whose modules live under /$bunfs. */
export function isCompiled(): boolean {
  return import.meta.path.startsWith("/$bunfs")
}

export const ONNXRUNTIME_VERSION: string = ortPackage.version

/** Build-time alternative to `--external sharp`: bundles a stub in its place (Bun.build `plugins`). */
export const sharpStubPlugin: BunPlugin = {
  name: "cellule-sharp-stub",
  setup(build) {
    build.onResolve({ filter: /^sharp$/ }, () => ({ path: "sharp", namespace: "cellule-stub" }))
    build.onLoad({ filter: /.*/, namespace: "cellule-stub" }, () => ({
      contents: `export default function sharp() { throw new Error("image processing is not built into cellule") }`,
      loader: "js",
    }))
  },
}

let prepared: Promise<string | null> | undefined

/**
 * Readies onnxruntime for transformers.js: telemetry off, and in the compiled binary the native addon
 * unpacked and `require("onnxruntime-node")` answered. Returns the folder the addon was loaded from,
 * null in dev. Idempotent; concurrent calls share one run.
 */
export function prepareOnnxRuntime(nativeCacheDir: string): Promise<string | null> {
  prepared ??= (async () => {
    disableTelemetry()
    return isCompiled() ? await install(nativeCacheDir) : null
  })().catch((cause) => {
    prepared = undefined
    throw cause instanceof CelluleError
      ? cause
      : new CelluleError(
          "embedder_native_unavailable",
          `cannot load onnxruntime: ${String(cause)}`,
          503,
          `check that ${nativeCacheDir} is writable and not mounted noexec`,
          { cause },
        )
  })
  return prepared
}

async function install(nativeCacheDir: string): Promise<string> {
  if (process.platform !== "linux" || process.arch !== "x64") {
    throw new CelluleError(
      "embedder_unsupported_platform",
      `embeddings are built for linux-x64 only, not ${process.platform}-${process.arch}`,
      501,
    )
  }
  // A literal specifier so the bundler embeds the pack (install/build/packs.ts); dynamic, so that dev
  // mode, where the file may not exist, never resolves it.
  const { default: packPath } = await import("../../.build/packs/onnxruntime-linux-x64.pack", {
    with: { type: "file" },
  })
  const dir = await unpack(packPath, nativeCacheDir, `onnxruntime-node-${ONNXRUNTIME_VERSION}-linux-x64`)
  const addonPath = join(dir, "onnxruntime_binding.node")

  const mod = { exports: {} as NativeBinding }
  process.dlopen(mod, addonPath)
  const onnxruntimeNode = moduleOver(mod.exports)

  Bun.plugin({
    name: "cellule-onnxruntime-node",
    setup(build) {
      build.module("onnxruntime-node", () => ({ exports: onnxruntimeNode, loader: "object" }))
      build.module("sharp", () => ({
        exports: {
          default: () => {
            throw new Error("image processing is not built into cellule")
          },
        },
        loader: "object",
      }))
    },
  })
  log.debug(`onnxruntime ${ONNXRUNTIME_VERSION} loaded from ${dir}`)
  return dir
}

/** Sets ORT_DISABLE_TELEMETRY in the C environment, where onnxruntime reads it (see header). */
export function disableTelemetry(): void {
  const libc = dlopen(process.platform === "darwin" ? "libc.dylib" : "libc.so.6", {
    setenv: { args: [FFIType.cstring, FFIType.cstring, FFIType.i32], returns: FFIType.i32 },
  })
  try {
    const cstr = (s: string) => Buffer.from(`${s}\0`)
    if (libc.symbols.setenv(cstr("ORT_DISABLE_TELEMETRY"), cstr("1"), 1) !== 0) {
      throw new CelluleError("embedder_telemetry_not_disabled", "setenv(ORT_DISABLE_TELEMETRY) failed", 500)
    }
  } finally {
    libc.close()
  }
  process.env.ORT_DISABLE_TELEMETRY = "1"
}

// ---------------------------------------------------------------------------------------------
// The JavaScript half of onnxruntime-node (dist/binding.js + dist/backend.js + dist/index.js),
// over a binding we loaded ourselves.

type RawMetadata = { name: string; isTensor: boolean; type: number; shape: number[]; symbolicDimensions: string[] }
interface NativeSession {
  loadModel(path: string, options: object): void
  loadModel(buffer: ArrayBufferLike, offset: number, length: number, options: object): void
  readonly inputMetadata: RawMetadata[]
  readonly outputMetadata: RawMetadata[]
  run(feeds: object, fetches: object, options?: object): ort.SessionHandler.ReturnType
  dispose(): void
  endProfiling(): void
}
interface NativeBinding {
  InferenceSession: new () => NativeSession
  listSupportedBackends(): { name: string; bundled: boolean }[]
  initOrtOnce(logLevel: number, tensor: typeof ort.Tensor, isMainThread: boolean): void
}

// Index = ONNX TensorProto.DataType, as in onnxruntime-node's backend.
const DATA_TYPES = [
  undefined,
  "float32",
  "uint8",
  "int8",
  "uint16",
  "int16",
  "int32",
  "int64",
  "string",
  "bool",
  "float16",
  "float64",
  "uint32",
  "uint64",
  undefined,
  undefined,
  undefined,
  undefined,
  undefined,
  undefined,
  undefined,
  "uint4",
  "int4",
] as const
const LOG_LEVELS = { verbose: 0, info: 1, warning: 2, error: 3, fatal: 4 } as const

function moduleOver(binding: NativeBinding): Record<string, unknown> {
  let initialized = false
  const initOrt = () => {
    if (initialized) return
    initialized = true
    binding.initOrtOnce(LOG_LEVELS[ort.env.logLevel ?? "warning"], ort.Tensor, isMainThread)
  }

  const describe = (raw: RawMetadata[]): [string[], ort.InferenceSession.ValueMetadata[]] => [
    raw.map((m) => m.name),
    raw.map((m) => {
      if (!m.isTensor) return { name: m.name, isTensor: false } as ort.InferenceSession.ValueMetadata
      const type = DATA_TYPES[m.type]
      if (!type) throw new Error(`unsupported onnx data type ${m.type}`)
      const shape = m.shape.map((d, i) => (d === -1 ? m.symbolicDimensions[i] : d))
      return { name: m.name, isTensor: true, type, shape } as ort.InferenceSession.ValueMetadata
    }),
  ]

  // The native calls are synchronous; like onnxruntime-node, defer them one tick so callers get a promise.
  const deferred = <T>(fn: () => T) =>
    new Promise<T>((resolve, reject) =>
      setImmediate(() => {
        try {
          resolve(fn())
        } catch (e) {
          reject(e)
        }
      }),
    )

  const backend: ort.Backend = {
    init: async () => {},
    createInferenceSessionHandler: (pathOrBuffer, options) =>
      deferred(() => {
        initOrt()
        const session = new binding.InferenceSession()
        if (typeof pathOrBuffer === "string") session.loadModel(pathOrBuffer, options ?? {})
        else session.loadModel(pathOrBuffer.buffer, pathOrBuffer.byteOffset, pathOrBuffer.byteLength, options ?? {})
        const [inputNames, inputMetadata] = describe(session.inputMetadata)
        const [outputNames, outputMetadata] = describe(session.outputMetadata)
        return {
          inputNames,
          outputNames,
          inputMetadata,
          outputMetadata,
          dispose: async () => session.dispose(),
          startProfiling: () => {},
          endProfiling: () => session.endProfiling(),
          run: (feeds, fetches, opts) => deferred(() => session.run(feeds, fetches, opts)),
        } satisfies ort.InferenceSessionHandler
      }),
  }
  for (const { name } of binding.listSupportedBackends()) ort.registerBackend(name, backend, 100)
  Object.defineProperty(ort.env.versions, "node", { value: ONNXRUNTIME_VERSION, enumerable: true })
  return { ...ort, listSupportedBackends: binding.listSupportedBackends }
}
