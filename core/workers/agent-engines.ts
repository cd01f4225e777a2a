// core/workers/agent-engines — the models a worker serves: llama.cpp engines and the optional
// embedder, loaded once at start, described to the pool in hello, freed at stop.
import { basename, join } from "node:path"
import { Embedder } from "../inference/embedder.ts"
import { LlamaEngine } from "../inference/llama.ts"
import { logger } from "../log.ts"
import type { AgentEngines } from "./agent-jobs.ts"
import type { ModelOffer, RuntimeFlags, RuntimeReport } from "./protocol.ts"

const log = logger("workers.agent")

export interface ModelSpec {
  id: string
  path: string
}

/** `name=path.gguf` or `path.gguf` (id = file name without .gguf). */
export function parseModelSpec(spec: string): ModelSpec {
  const eq = spec.indexOf("=")
  if (eq > 0 && !spec.slice(0, eq).includes("/")) return { id: spec.slice(0, eq), path: spec.slice(eq + 1) }
  return { id: basename(spec).replace(/\.gguf$/i, ""), path: spec }
}

export interface EngineOptions {
  dataDir: string
  models: ModelSpec[]
  embedderPath?: string
  threads: number
  slots: number
  contextSize: number
  gpu: "auto" | "off"
  batchSize?: number
  flashAttention?: boolean
  kvCacheType?: RuntimeFlags["kv_cache_type"]
}

/** The engine options once the pool's runtime flags for this machine's class are laid over the worker's own. */
export function withRuntimeFlags(o: EngineOptions, f: RuntimeFlags): EngineOptions {
  return {
    ...o,
    contextSize: f.context_size ?? o.contextSize,
    threads: f.threads ?? o.threads,
    slots: f.parallel ?? o.slots,
    batchSize: f.batch_size ?? o.batchSize,
    flashAttention: f.flash_attention ?? o.flashAttention,
    kvCacheType: f.kv_cache_type ?? o.kvCacheType,
  }
}

/** Load every configured model (and the embedder) into `into`. */
export async function loadEngines(o: EngineOptions, into: AgentEngines) {
  await loadLlms(o, into)
  const nativeCacheDir = join(o.dataDir, "cache", "native")
  if (o.embedderPath) {
    const engine = await Embedder.load({ modelDir: o.embedderPath, threads: 1, nativeCacheDir })
    into.embedder = { id: basename(o.embedderPath), engine }
    log.info(`embedder ${into.embedder.id} loaded (${engine.dimensions} dimensions)`)
  }
}

/** Load the chat models only (a runtime-flags reload keeps the embedder). */
export async function loadLlms(o: EngineOptions, into: AgentEngines) {
  const nativeCacheDir = join(o.dataDir, "cache", "native")
  for (const m of o.models) {
    const t0 = performance.now()
    const engine = await LlamaEngine.load({
      modelPath: m.path,
      threads: o.threads,
      sequences: o.slots,
      contextSize: o.contextSize,
      gpu: o.gpu === "off" ? false : "auto",
      nativeCacheDir,
      batchSize: o.batchSize,
      flashAttention: o.flashAttention,
      kvCacheType: o.kvCacheType,
    })
    into.llm.set(m.id, engine)
    log.info(
      `model ${m.id} loaded in ${Math.round(performance.now() - t0)} ms (${o.slots} slots, ${o.threads} threads)`,
    )
  }
}

/** What hello tells the pool this worker serves. */
export function modelOffers(engines: AgentEngines): ModelOffer[] {
  const out: ModelOffer[] = [...engines.llm].map(([id, e]) => ({
    id,
    kind: "llm",
    slots: e.info().sequences,
    context: e.info().contextSize,
  }))
  const embedder = engines.embedder
  if (embedder) out.push({ id: embedder.id, kind: "embedding", slots: 1, dims: embedder.engine.dimensions })
  return out
}

/** What each chat model's engine really runs with: the heartbeat's runtime report. */
export function runtimeOf(engines: AgentEngines): RuntimeReport["models"] {
  const out: RuntimeReport["models"] = {}
  for (const [id, e] of engines.llm) {
    const i = e.info()
    out[id] = {
      context_size: i.contextSize,
      parallel: i.sequences,
      threads: i.threads,
      batch_size: i.batchSize,
      flash_attention: i.flashAttention,
      kv_cache_type: i.kvCacheType,
    }
  }
  return out
}

export async function disposeEngines(engines: AgentEngines) {
  for (const e of engines.llm.values()) await e.dispose()
  await engines.embedder?.engine.dispose()
}
