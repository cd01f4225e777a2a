// core/config/settings — every setting of every role, as data: name, env var, flag, default, meaning.
// docs/configuration.md is checked against this table by a test, so the two never drift.
import { homedir, hostname, cpus } from "node:os"
import { join } from "node:path"

export type Role = "pool" | "worker" | "proxy" | "cli"
export type Kind = "string" | "int" | "bool" | "enum" | "path" | "url" | "list"

export interface Setting {
  key: string
  env: string
  flag: string
  kind: Kind
  roles: Role[]
  /** Default value, or a function of the other already-resolved values. */
  default: unknown | ((partial: Record<string, unknown>) => unknown)
  /** Default as documented (for computed defaults). */
  docDefault?: string
  values?: readonly string[]
  min?: number
  max?: number
  secret?: boolean
  doc: string
}

const all: Role[] = ["pool", "worker", "proxy", "cli"]

export const SETTINGS: Setting[] = [
  {
    key: "dataDir", env: "CELLULE_DATA_DIR", flag: "data-dir", kind: "path", roles: all,
    default: () => join(homedir(), ".cellule"), docDefault: "~/.cellule",
    doc: "Where this process keeps its state: embedded database, keys, model cache, native libraries.",
  },
  {
    key: "logLevel", env: "LOG_LEVEL", flag: "log-level", kind: "enum", roles: all, default: "info",
    values: ["silent", "error", "warn", "info", "debug", "trace"], doc: "Log verbosity.",
  },
  {
    key: "poolName", env: "POOL_NAME", flag: "name", kind: "string", roles: ["pool"],
    default: () => hostname(), docDefault: "the host name",
    doc: "Unique pool identifier in the federation, shown in the dashboard and /v1/status.",
  },
  {
    key: "host", env: "HOST", flag: "host", kind: "string", roles: ["pool"], default: "0.0.0.0",
    doc: "Address the pool listens on.",
  },
  {
    key: "port", env: "PORT", flag: "port", kind: "int", roles: ["pool"], default: 8080, min: 0, max: 65535,
    doc: "HTTP port of the pool (API, dashboard, worker WebSocket). 0 picks a free port.",
  },
  {
    key: "poolUrl", env: "POOL_URL", flag: "url", kind: "url", roles: ["pool"],
    default: (p: Record<string, unknown>) => `http://${hostname()}:${p.port}`, docDefault: "http://<host name>:<PORT>",
    doc: "The URL peers and workers use to reach this pool.",
  },
  {
    key: "databaseUrl", env: "DATABASE_URL", flag: "database-url", kind: "url", roles: ["pool", "cli"],
    default: undefined, docDefault: "unset (embedded database)", secret: true,
    doc: "PostgreSQL with pgvector. Unset: the embedded PGlite database under the data dir.",
  },
  {
    key: "maxJsonBodyBytes", env: "CELLULE_MAX_JSON_BODY", flag: "max-json-body", kind: "int", roles: ["pool"],
    default: 1024 * 1024, min: 1024, doc: "Largest JSON request body accepted (bytes); larger ones get 413.",
  },
  {
    key: "shutdownGraceMs", env: "CELLULE_SHUTDOWN_GRACE_MS", flag: "shutdown-grace-ms", kind: "int",
    roles: ["pool", "worker"], default: 30_000, min: 0,
    doc: "On SIGTERM/SIGINT, how long in-flight requests may run before they are cut.",
  },
  {
    key: "workerToken", env: "CELLULE_WORKER_TOKEN", flag: "worker-token", kind: "string", roles: ["pool"],
    default: undefined, docDefault: "unset (workers cannot join)", secret: true,
    doc: "Shared join token workers present on /ws. Stored hashed; compared in constant time.",
  },
  {
    key: "trustedNetworks", env: "CELLULE_TRUSTED_NETWORKS", flag: "trusted-networks", kind: "list", roles: ["pool"],
    default: [], docDefault: "none",
    doc: "CIDRs (e.g. 10.0.5.0/24) whose requests may name an admin with the X-Cellule-User header (an SSO front end). Empty: the header is ignored. Never list a network that untrusted clients or a shared proxy can send from.",
  },
  {
    key: "maxQueue", env: "MAX_QUEUE", flag: "max-queue", kind: "int", roles: ["pool"], default: 0, min: 0,
    docDefault: "0 (auto: 4 × live slots, at least 16)",
    doc: "Requests waiting per model before new ones get 429 queue_full.",
  },
  {
    key: "queueTimeoutMs", env: "CELLULE_QUEUE_TIMEOUT_MS", flag: "queue-timeout-ms", kind: "int", roles: ["pool"],
    default: 120_000, min: 100, doc: "How long a request may wait in the queue for a slot before 503.",
  },
  {
    key: "heartbeatMs", env: "CELLULE_HEARTBEAT_MS", flag: "heartbeat-ms", kind: "int", roles: ["pool", "worker"],
    default: 10_000, min: 100, doc: "Worker heartbeat interval; the pool drops a worker silent for 3 intervals.",
  },
  {
    key: "poolConnectUrl", env: "CELLULE_POOL", flag: "pool", kind: "url", roles: ["worker"], default: undefined,
    docDefault: "required", doc: "The pool a worker joins (http(s)://host:port).",
  },
  {
    key: "token", env: "CELLULE_TOKEN", flag: "token", kind: "string", roles: ["worker"], default: undefined,
    docDefault: "required", secret: true, doc: "The worker's join token.",
  },
  {
    key: "models", env: "CELLULE_MODELS", flag: "model", kind: "list", roles: ["worker"], default: [],
    docDefault: "none", doc: "GGUF files the worker serves (repeat the flag or comma-separate).",
  },
  {
    key: "embedderPath", env: "CELLULE_EMBEDDER_PATH", flag: "embedder", kind: "path", roles: ["worker"],
    default: undefined, docDefault: "unset (no embeddings)",
    doc: "Local MiniLM-L6-v2-layout folder for embeddings (offline, 384 dimensions).",
  },
  {
    key: "threads", env: "CELLULE_THREADS", flag: "threads", kind: "int", roles: ["worker"],
    default: () => Math.max(1, Math.min(8, cpus().length)), docDefault: "CPU cores, at most 8", min: 1,
    doc: "llama.cpp threads. Always explicit: too many threads collapse decoding on small machines.",
  },
  {
    key: "slots", env: "CELLULE_SLOTS", flag: "slots", kind: "int", roles: ["worker"], default: 2, min: 1, max: 64,
    doc: "Parallel sequences per model (requests served at once).",
  },
  {
    key: "contextSize", env: "CELLULE_CONTEXT_SIZE", flag: "context-size", kind: "int", roles: ["worker"],
    default: 4096, min: 256, doc: "Context tokens per slot (prompt + answer).",
  },
  {
    key: "gpu", env: "CELLULE_GPU", flag: "gpu", kind: "enum", roles: ["worker"], default: "auto",
    values: ["auto", "off"], doc: "Use a GPU when llama.cpp finds one.",
  },
]
