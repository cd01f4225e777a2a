// core/workers/protocol — the versioned JSON messages between a pool and its workers over /ws.
// docs/protocol.md describes them for humans; this file is the source of truth. No I/O here.
import { CelluleError } from "../errors.ts"
import type { RuntimeFlags } from "../config/cluster-settings.ts"

export type { RuntimeFlags } from "../config/cluster-settings.ts"

/** What this build speaks. v2 adds `migrate_pool` (issue 17); a pool still serves v1 workers. */
export const PROTOCOL_VERSION = 2
/** The oldest worker protocol a pool still serves. */
export const MIN_PROTOCOL_VERSION = 1

/** The version a pool and a worker speak together: the lower of the two (a v1 worker never hears v2 messages). */
export const negotiatedVersion = (workerV: number) => Math.min(workerV, PROTOCOL_VERSION)

/**
 * Every bound of what a worker may send (docs/protocol.md "Limits"). A worker is authenticated but not
 * trusted: without these one hello of 10 MB and 200 000 models cost the pool 1.86 GB, 42 MB of log and
 * 200 000 catalogue rows. Anything beyond is refused with close code CLOSE_LIMIT, never truncated.
 */
export const LIMITS = {
  /** WebSocket max payload: an embeddings `done` for 2048 inputs is the largest legitimate frame. */
  frameBytes: 32 * 1024 * 1024,
  /** hello, heartbeat, error and bye frames. */
  helloBytes: 64 * 1024,
  /** One `token` frame (a few coalesced pieces of text and their ids). */
  tokenBytes: 1024 * 1024,
  nameChars: 128,
  versionChars: 64,
  models: 64,
  modelIdChars: 128,
  slots: 256,
  /** hardware.os, .arch, .gpu. */
  hardwareChars: 128,
  cpuThreads: 4096,
  /** ram_mb, vram_mb: 16 TiB. */
  memoryMb: 16 * 1024 * 1024,
  contextTokens: 16 * 1024 * 1024,
  dims: 65_536,
  events: 100,
  eventChars: 64,
  eventDetailBytes: 2048,
  errorCodeChars: 64,
  errorMessageChars: 4096,
  embeddings: 2048,
  /** Pools in one pool_rtts report. */
  poolRtts: 32,
} as const

/** Close codes the pool uses on /ws (docs/protocol.md). */
export const CLOSE = {
  noHello: 4001,
  protocolError: 4002,
  tokenRevoked: 4003,
  workerIdTaken: 4004,
  limit: 4009,
} as const

export interface ModelOffer {
  /** Model id clients use in `model` (file name without .gguf unless named explicitly). */
  id: string
  kind: "llm" | "embedding"
  slots: number
  context?: number
  dims?: number
}

export interface Hardware {
  os: string
  arch: string
  cpu_threads: number
  ram_mb: number
  vram_mb?: number
  gpu?: string
}

export type Activity = "available" | "throttled" | "busy"

export interface ChatMessage {
  role: string
  content: string
}

export interface JobParams {
  messages?: ChatMessage[]
  prompt?: string
  input?: string[]
  /** Embedding jobs: count each input's tokens (the embedder's tokenizer) instead of embedding it. */
  count_tokens?: boolean
  max_tokens?: number
  temperature?: number
  top_p?: number
  seed?: number
  stop?: string[]
  /** Failover: token ids already streamed to the client by a worker that died. */
  resume_tokens?: number[]
}

export interface Usage {
  prompt_tokens: number
  completion_tokens: number
}

export type HardwareClass = "cpu-mid" | "gpu-small" | "gpu-large" | "apple-m"

/** A worker-side event the pool records in its worker audit log (failover transitions, upgrades). */
export interface WorkerEvent {
  at: number
  event: string
  detail?: Record<string, unknown>
}

/** What an older worker needs to upgrade itself: where the pool's binary is and what it must hash to. */
export interface UpgradeOffer {
  version: string
  url: string
  sha256: string
  /** Ed25519 signature (base64) of the SHA-256 hex, by the pool's release key, when the pool has one. */
  signature?: string
}

/** The pool's "dormant means dormant" policy; fields left out keep the worker's own settings. */
export interface ActivityPolicyMessage {
  throttled_pct?: number
  busy_pct?: number
  /** e.g. "mon-fri 08:00-18:00" (worker's local time): at best throttled then. */
  working_hours?: string
}

/**
 * What a worker runs now (heartbeat.runtime): the pool's flags it applied (`flags`, with their
 * `generation`) and what its llama.cpp contexts really have, read back from the engine of each model.
 */
export interface RuntimeReport {
  flags: RuntimeFlags
  generation: number
  models: Record<
    string,
    {
      context_size: number
      parallel: number
      threads: number
      batch_size: number
      flash_attention: boolean
      kv_cache_type: string
    }
  >
}

/** Round trips a worker measured, by pool federation id, in ms. */
export type PoolRtts = Record<string, number>

export type WorkerMessage =
  | {
      type: "hello"
      v: number
      worker_id: string
      name: string
      version: string
      hardware: Hardware
      models: ModelOffer[]
      activity: Activity
      hardware_class?: HardwareClass
      events?: WorkerEvent[]
      /** §4.8: measured round trips to pools, by federation id (ms, the minimum of the last probes). */
      pool_rtts?: PoolRtts
      /** How long ago a migration order last moved this worker (ms): the cool-down follows it across pools. */
      moved_ms_ago?: number
    }
  | {
      type: "heartbeat"
      activity: Activity
      busy: Record<string, number>
      events?: WorkerEvent[]
      /** Sent after the worker applied runtime flags (and with each heartbeat after that). */
      runtime?: RuntimeReport
      /** Once per finished probe round (welcome.latency_probe_ms): one observation for latency routing. */
      pool_rtts?: PoolRtts
    }
  | { type: "token"; job_id: string; text: string; ids?: number[] }
  | {
      type: "done"
      job_id: string
      finish_reason: "stop" | "length" | "abort"
      usage: Usage
      embeddings?: number[][]
      token_counts?: number[]
    }
  | { type: "error"; job_id?: string; code: string; message: string; status?: number }
  | { type: "bye"; reason: string }

export type PoolMessage =
  | {
      type: "welcome"
      v: number
      pool_name: string
      worker_id: string
      heartbeat_ms: number
      peer_pool_urls: string[]
      /** Release public keys of the trusted bonded peers, by URL (kind "release_key"): failover offers. */
      peer_release_keys?: Record<string, string>
      upgrade?: UpgradeOffer
      activity_policy?: ActivityPolicyMessage
      /** The runtime flags of this worker's hardware class (Advanced settings), when an admin set them. */
      runtime_flags?: RuntimeFlags
      /** §4.8 latency routing is on: probe this pool and peer_pool_urls this often, report pool_rtts. */
      latency_probe_ms?: number
    }
  /** The admin changed the runtime flags of this worker's class: apply once running jobs are done. */
  | { type: "runtime_flags"; flags: RuntimeFlags }
  | ({ type: "self_update" } & UpgradeOffer)
  | { type: "job"; job_id: string; kind: "chat" | "completion" | "embedding"; model: string; params: JobParams }
  | { type: "cancel"; job_id: string }
  | { type: "error"; code: string; message: string }
  | { type: "bye"; reason: string }
  | MigratePoolMessage

/**
 * v2 (issue 17, admin guide §4.6.1–4.6.2): move to another pool. The worker takes no new job, lets those
 * in flight finish (at most `drain_ms`), saves `target_url` as its pool in worker.json, says bye and joins
 * the target. Not welcomed there within `give_up_ms`: it returns to the pool that sent the order.
 */
export interface MigratePoolMessage {
  type: "migrate_pool"
  order_id: string
  /** The target pool's federation id (atom id). */
  target_pool: string
  target_url: string
  drain_ms: number
  give_up_ms: number
}

export class ProtocolError extends CelluleError {
  constructor(message: string) {
    super("protocol_error", message, 400)
  }
}

/** A field or frame beyond LIMITS: the pool answers `protocol_limit` and closes with CLOSE.limit. */
export class ProtocolLimit extends CelluleError {
  constructor(message: string) {
    super("protocol_limit", message, 400)
  }
}

const isStr = (v: unknown): v is string => typeof v === "string"
const isNum = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v)
const isInt = (v: unknown, min: number, max: number): v is number =>
  typeof v === "number" && Number.isInteger(v) && v >= min && v <= max
// Names and versions end up in log lines and HTML: no control characters (a newline forges log lines).
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const printable = (v: string) => !/[\u0000-\u001f\u007f]/.test(v)
const byteLength = (raw: string | Buffer) => (typeof raw === "string" ? Buffer.byteLength(raw) : raw.length)

/** Keep well-formed events only, at most LIMITS.events per message: they are advisory, never fatal. */
function parseEvents(raw: unknown[]): WorkerEvent[] {
  return raw
    .slice(0, LIMITS.events)
    .filter(
      (e): e is WorkerEvent =>
        !!e &&
        typeof e === "object" &&
        isNum((e as WorkerEvent).at) &&
        isStr((e as WorkerEvent).event) &&
        (e as WorkerEvent).event.length <= LIMITS.eventChars,
    )
    .map((e) => {
      const detail = e.detail && typeof e.detail === "object" ? e.detail : {}
      const small = JSON.stringify(detail).length <= LIMITS.eventDetailBytes
      return { at: e.at, event: e.event, detail: small ? detail : { truncated: true } }
    })
}

/** A heartbeat's runtime report, bounded like the rest; anything malformed is dropped (it is advisory). */
function parseRuntime(raw: unknown): RuntimeReport | undefined {
  if (!raw || typeof raw !== "object") return undefined
  const r = raw as Partial<RuntimeReport>
  if (!r.models || typeof r.models !== "object" || !isNum(r.generation)) return undefined
  const models: RuntimeReport["models"] = {}
  for (const [id, v] of Object.entries(r.models).slice(0, LIMITS.models)) {
    if (!v || typeof v !== "object" || id.length > LIMITS.modelIdChars) continue
    const n = (x: unknown) => (isInt(x, 0, LIMITS.contextTokens) ? x : 0)
    models[id] = {
      context_size: n(v.context_size),
      parallel: n(v.parallel),
      threads: n(v.threads),
      batch_size: n(v.batch_size),
      flash_attention: v.flash_attention === true,
      kv_cache_type: isStr(v.kv_cache_type) ? v.kv_cache_type.slice(0, 16) : "",
    }
  }
  const flags = r.flags && typeof r.flags === "object" ? r.flags : {}
  return { flags: JSON.stringify(flags).length <= 1024 ? flags : {}, generation: r.generation, models }
}

/** A worker's RTT report, bounded (it is advisory: anything malformed is dropped, never an error). */
function parseRtts(raw: unknown): PoolRtts | undefined {
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) return undefined
  const out: PoolRtts = {}
  for (const [id, ms] of Object.entries(raw).slice(0, LIMITS.poolRtts))
    if (/^[\w-]{1,128}$/.test(id) && isNum(ms) && ms >= 0 && ms <= 600_000) out[id] = ms
  return Object.keys(out).length ? out : undefined
}

/** Check a hello against LIMITS: a shape error is a ProtocolError, a size beyond a limit a ProtocolLimit. */
function checkHello(m: Record<string, unknown>, need: (cond: boolean, what: string) => void) {
  const limit = (cond: boolean, what: string) => {
    if (!cond) throw new ProtocolLimit(`hello message: ${what}`)
  }
  need(
    isInt(m.v, MIN_PROTOCOL_VERSION, PROTOCOL_VERSION),
    `unsupported protocol version ${m.v} (pool speaks ${MIN_PROTOCOL_VERSION} to ${PROTOCOL_VERSION})`,
  )
  need(isStr(m.worker_id) && /^[\w-]{8,64}$/.test(m.worker_id as string), "worker_id must be 8-64 word characters")
  need(isStr(m.name) && isStr(m.version), "name and version are required")
  limit((m.name as string).length <= LIMITS.nameChars, `name is longer than ${LIMITS.nameChars} characters`)
  limit((m.version as string).length <= LIMITS.versionChars, `version is longer than ${LIMITS.versionChars} characters`)
  need(printable(m.name as string) && printable(m.version as string), "name and version must be printable")
  const hw = m.hardware as Hardware
  need(!!hw && isNum(hw.cpu_threads) && isNum(hw.ram_mb) && isStr(hw.os), "hardware is incomplete")
  for (const f of ["os", "arch", "gpu"] as const) {
    if (hw[f] === undefined) continue
    need(isStr(hw[f]) && printable(hw[f] as string), `hardware.${f} must be a printable string`)
    limit((hw[f] as string).length <= LIMITS.hardwareChars, `hardware.${f} is longer than ${LIMITS.hardwareChars}`)
  }
  limit(isInt(hw.cpu_threads, 0, LIMITS.cpuThreads), `hardware.cpu_threads must be 0..${LIMITS.cpuThreads}`)
  limit(isInt(hw.ram_mb, 0, LIMITS.memoryMb), `hardware.ram_mb must be 0..${LIMITS.memoryMb}`)
  if (hw.vram_mb !== undefined)
    limit(isInt(hw.vram_mb, 0, LIMITS.memoryMb), `hardware.vram_mb must be 0..${LIMITS.memoryMb}`)
  m.hardware = {
    os: hw.os,
    arch: hw.arch,
    cpu_threads: hw.cpu_threads,
    ram_mb: hw.ram_mb,
    vram_mb: hw.vram_mb,
    gpu: hw.gpu,
  }
  need(Array.isArray(m.models), "models must be a list")
  const models = m.models as ModelOffer[]
  limit(models.length <= LIMITS.models, `more than ${LIMITS.models} models`)
  const ids = new Set<string>()
  for (const o of models) {
    need(!!o && isStr(o.id) && o.id.length > 0 && printable(o.id), "model id must be a printable string")
    limit(o.id.length <= LIMITS.modelIdChars, `model id longer than ${LIMITS.modelIdChars} characters`)
    need(!ids.has(o.id), `model ${o.id} is offered twice`)
    ids.add(o.id)
    need(o.kind === "llm" || o.kind === "embedding", "model kind must be llm or embedding")
    need(isNum(o.slots) && o.slots >= 1, "model slots must be at least 1")
    limit(isInt(o.slots, 1, LIMITS.slots), `model slots must be 1..${LIMITS.slots}`)
    if (o.context !== undefined) limit(isInt(o.context, 0, LIMITS.contextTokens), "model context is out of range")
    if (o.dims !== undefined) limit(isInt(o.dims, 0, LIMITS.dims), "model dims is out of range")
  }
  m.models = models.map((o) => ({ id: o.id, kind: o.kind, slots: o.slots, context: o.context, dims: o.dims }))
  const classes: HardwareClass[] = ["cpu-mid", "gpu-small", "gpu-large", "apple-m"]
  if (m.hardware_class !== undefined)
    need(classes.includes(m.hardware_class as HardwareClass), "unknown hardware_class")
  if (Array.isArray(m.events)) m.events = parseEvents(m.events)
  else delete m.events
  const rtts = parseRtts(m.pool_rtts)
  if (rtts) m.pool_rtts = rtts
  else delete m.pool_rtts
  if (!isInt(m.moved_ms_ago, 0, Number.MAX_SAFE_INTEGER)) delete m.moved_ms_ago
}

/** The largest frame each message type may be (a `done` may carry embeddings: the WebSocket maximum). */
function maxBytes(type: unknown): number {
  if (type === "done") return LIMITS.frameBytes
  if (type === "token") return LIMITS.tokenBytes
  return LIMITS.helloBytes
}

/** Parse and check one message from a worker; anything malformed is a ProtocolError, oversized a ProtocolLimit. */
export function parseWorkerMessage(raw: string | Buffer): WorkerMessage {
  const bytes = byteLength(raw)
  if (bytes > LIMITS.frameBytes) throw new ProtocolLimit(`frame of ${bytes} bytes is over ${LIMITS.frameBytes}`)
  let m: Record<string, unknown>
  try {
    m = JSON.parse(typeof raw === "string" ? raw : raw.toString("utf8"))
  } catch {
    throw new ProtocolError("message is not JSON")
  }
  if (!m || typeof m !== "object") throw new ProtocolError("message is not an object")
  if (bytes > maxBytes(m.type))
    throw new ProtocolLimit(`${String(m.type).slice(0, 16)} frame of ${bytes} bytes is over ${maxBytes(m.type)}`)
  const need = (cond: boolean, what: string) => {
    if (!cond) throw new ProtocolError(`${m.type} message: ${what}`)
  }
  switch (m.type) {
    case "hello": {
      checkHello(m, need)
      return m as unknown as WorkerMessage
    }
    case "heartbeat": {
      const activity = m.activity === "throttled" || m.activity === "busy" ? m.activity : "available"
      const busy: Record<string, number> = {}
      const reported = m.busy && typeof m.busy === "object" ? Object.entries(m.busy as object) : []
      for (const [model, n] of reported.slice(0, LIMITS.models)) if (isNum(n)) busy[model] = n
      const out: WorkerMessage = { type: "heartbeat", activity, busy }
      if (Array.isArray(m.events)) out.events = parseEvents(m.events)
      const runtime = parseRuntime(m.runtime)
      if (runtime) out.runtime = runtime
      const rtts = parseRtts(m.pool_rtts)
      if (rtts) out.pool_rtts = rtts
      return out
    }
    case "token":
      need(isStr(m.job_id) && isStr(m.text), "job_id and text are required")
      return m as unknown as WorkerMessage
    case "done":
      need(isStr(m.job_id), "job_id is required")
      need(
        !!m.usage && isNum((m.usage as Usage).prompt_tokens) && isNum((m.usage as Usage).completion_tokens),
        "usage is required",
      )
      if (m.embeddings !== undefined) {
        need(Array.isArray(m.embeddings), "embeddings must be a list")
        if ((m.embeddings as unknown[]).length > LIMITS.embeddings)
          throw new ProtocolLimit(`done message: more than ${LIMITS.embeddings} embeddings`)
      }
      return m as unknown as WorkerMessage
    case "error":
      need(isStr(m.code) && isStr(m.message), "code and message are required")
      return {
        ...(m as unknown as Extract<WorkerMessage, { type: "error" }>),
        code: (m.code as string).slice(0, LIMITS.errorCodeChars),
        message: (m.message as string).slice(0, LIMITS.errorMessageChars),
      }
    case "bye":
      return { type: "bye", reason: isStr(m.reason) ? m.reason.slice(0, 256) : "" }
    default:
      throw new ProtocolError(`unknown message type ${JSON.stringify(String(m.type).slice(0, 32))}`)
  }
}
