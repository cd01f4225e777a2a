// core/workers/protocol — the versioned JSON messages between a pool and its workers over /ws.
// docs/protocol.md describes them for humans; this file is the source of truth. No I/O here.
import { CelluleError } from "../errors.ts"

export const PROTOCOL_VERSION = 1

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
    }
  | { type: "heartbeat"; activity: Activity; busy: Record<string, number>; events?: WorkerEvent[] }
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
      upgrade?: UpgradeOffer
      activity_policy?: ActivityPolicyMessage
    }
  | ({ type: "self_update" } & UpgradeOffer)
  | { type: "job"; job_id: string; kind: "chat" | "completion" | "embedding"; model: string; params: JobParams }
  | { type: "cancel"; job_id: string }
  | { type: "error"; code: string; message: string }
  | { type: "bye"; reason: string }

export class ProtocolError extends CelluleError {
  constructor(message: string) {
    super("protocol_error", message, 400)
  }
}

const isStr = (v: unknown): v is string => typeof v === "string"
const isNum = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v)

/** Keep well-formed events only, at most 100 per message: they are advisory, never fatal. */
function parseEvents(raw: unknown[]): WorkerEvent[] {
  return raw
    .filter(
      (e): e is WorkerEvent =>
        !!e &&
        typeof e === "object" &&
        isNum((e as WorkerEvent).at) &&
        isStr((e as WorkerEvent).event) &&
        (e as WorkerEvent).event.length <= 64,
    )
    .slice(0, 100)
    .map((e) => ({ at: e.at, event: e.event, detail: e.detail && typeof e.detail === "object" ? e.detail : {} }))
}

/** Parse and check one message from a worker; anything malformed is a ProtocolError. */
export function parseWorkerMessage(raw: string | Buffer): WorkerMessage {
  let m: Record<string, unknown>
  try {
    m = JSON.parse(typeof raw === "string" ? raw : raw.toString("utf8"))
  } catch {
    throw new ProtocolError("message is not JSON")
  }
  if (!m || typeof m !== "object") throw new ProtocolError("message is not an object")
  const need = (cond: boolean, what: string) => {
    if (!cond) throw new ProtocolError(`${m.type} message: ${what}`)
  }
  switch (m.type) {
    case "hello": {
      need(m.v === PROTOCOL_VERSION, `unsupported protocol version ${m.v} (pool speaks ${PROTOCOL_VERSION})`)
      need(isStr(m.worker_id) && /^[\w-]{8,64}$/.test(m.worker_id as string), "worker_id must be 8-64 word characters")
      need(isStr(m.name) && isStr(m.version), "name and version are required")
      const hw = m.hardware as Hardware
      need(!!hw && isNum(hw.cpu_threads) && isNum(hw.ram_mb) && isStr(hw.os), "hardware is incomplete")
      need(Array.isArray(m.models), "models must be a list")
      for (const o of m.models as ModelOffer[]) {
        need(isStr(o.id) && o.id.length > 0 && o.id.length <= 128, "model id must be a short string")
        need(o.kind === "llm" || o.kind === "embedding", "model kind must be llm or embedding")
        need(isNum(o.slots) && o.slots >= 1 && o.slots <= 256, "model slots must be 1..256")
      }
      if (Array.isArray(m.events)) m.events = parseEvents(m.events)
      return m as unknown as WorkerMessage
    }
    case "heartbeat": {
      const activity = m.activity === "throttled" || m.activity === "busy" ? m.activity : "available"
      const out: WorkerMessage = { type: "heartbeat", activity, busy: (m.busy as Record<string, number>) ?? {} }
      if (Array.isArray(m.events)) out.events = parseEvents(m.events)
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
      return m as unknown as WorkerMessage
    case "error":
      need(isStr(m.code) && isStr(m.message), "code and message are required")
      return m as unknown as WorkerMessage
    case "bye":
      return { type: "bye", reason: isStr(m.reason) ? m.reason : "" }
    default:
      throw new ProtocolError(`unknown message type ${JSON.stringify(m.type)}`)
  }
}
