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
    roles: ["pool", "worker", "proxy"], default: 30_000, min: 0,
    doc: "On SIGTERM/SIGINT, how long in-flight requests may run before they are cut.",
  },
  {
    key: "workerToken", env: "CELLULE_WORKER_TOKEN", flag: "worker-token", kind: "string", roles: ["pool"],
    default: undefined, docDefault: "unset (workers cannot join)", secret: true,
    doc: "Shared join token workers present on /ws. Stored hashed; compared in constant time.",
  },
  {
    key: "setupAnswers", env: "CELLULE_SETUP_ANSWERS", flag: "setup-answers", kind: "path", roles: ["pool"], default: undefined,
    docDefault: "none (the wizard at /setup/ui)",
    doc: "A wizard answers file (docs/setup.md) applied at boot while setup is not completed: unattended installs.",
  },
  {
    key: "trustedNetworks", env: "CELLULE_TRUSTED_NETWORKS", flag: "trusted-networks", kind: "list", roles: ["pool"],
    default: [], docDefault: "none",
    doc: "CIDRs (e.g. 10.0.5.0/24) whose requests may name an admin with the X-Cellule-User header (an SSO front end). Empty: the header is ignored. Never list a network that untrusted clients or a shared proxy can send from.",
  },
  {
    key: "trustedProxies", env: "CELLULE_TRUSTED_PROXIES", flag: "trusted-proxies", kind: "list", roles: ["pool", "proxy"],
    default: [], docDefault: "none",
    doc: "CIDRs of reverse proxies (e.g. the `cellule proxy` hosts) whose X-Forwarded-For / X-Forwarded-Proto / X-Forwarded-Host are believed. Empty: the headers are ignored and the TCP peer is the client.",
  },
  {
    key: "maxQueue", env: "MAX_QUEUE", flag: "max-queue", kind: "int", roles: ["pool"], default: 0, min: 0,
    docDefault: "0 (auto: the larger of 16, 4 × live slots and the declared headcount)",
    doc: "Requests waiting per model before new ones get 429 queue_full.",
  },
  {
    key: "anonymousAccess", env: "CELLULE_ANONYMOUS_ACCESS", flag: "anonymous-access", kind: "bool", roles: ["pool"],
    default: undefined, docDefault: "unset: the dashboard's switch (Worker balancing page), off until an admin turns it on",
    doc: "Serve the OpenAI API without an API key (anonymous LAN access). Set, it overrides the cluster-wide switch of the dashboard: true lets anyone on the network call the API, false requires a key (sk-cel-…) from /v1/admin/keys on every pool.",
  },
  {
    key: "keyUsageSyncMs", env: "CELLULE_KEY_USAGE_SYNC_MS", flag: "key-usage-sync-ms", kind: "int", roles: ["pool"], default: 2000, min: 50,
    doc: "How often a pool asks each trusted peer what every API key used (last minute, this month), so rate limits and budgets hold across the cluster; also how far behind they may lag.",
  },
  {
    key: "interactiveReserve", env: "CELLULE_INTERACTIVE_RESERVE", flag: "interactive-reserve", kind: "int", roles: ["pool"],
    default: 1, min: 0,
    doc: "Slots per model that batch requests (X-Cellule-Priority: batch) never take, so interactive requests start at once. 0: batch may use every slot.",
  },
  {
    key: "interactiveWindowMs", env: "CELLULE_INTERACTIVE_WINDOW_MS", flag: "interactive-window-ms", kind: "int", roles: ["pool"],
    default: 10_000, min: 0,
    doc: "After an interactive request, batch requests run one at a time per model for this long, so people keep the machines' CPU.",
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
    key: "fedMode", env: "CELLULE_FED", flag: "fed", kind: "enum", roles: ["pool"], default: "active",
    values: ["active", "observe", "off"],
    doc: "Federation master switch. observe: verify and log peers' envelopes without applying them. off: no federation routes or loops.",
  },
  {
    key: "fedGossipEnabled", env: "CELLULE_FED_GOSSIP_ENABLED", flag: "fed-gossip", kind: "bool", roles: ["pool"], default: true,
    doc: "Exchange replicated changes (settings, sites, projects) with trusted peers. false: bonds and latency probes only.",
  },
  {
    key: "fedKeyDir", env: "CELLULE_FED_KEY_DIR", flag: "fed-key-dir", kind: "path", roles: ["pool"],
    default: (p: Record<string, unknown>) => join(String(p.dataDir), "federation"), docDefault: "<data dir>/federation",
    doc: "Where the pool's Ed25519 federation key lives. Must be persistent: losing it means a new atom_id and re-bonding every peer.",
  },
  {
    key: "fedRekey", env: "CELLULE_FED_REKEY", flag: "fed-rekey", kind: "bool", roles: ["pool"], default: false,
    doc: "Deliberately replace a lost or compromised federation key with a new one (new atom_id; every peer must re-bond). Remove after one boot.",
  },
  {
    key: "minTrustLevel", env: "MIN_TRUST_LEVEL", flag: "min-trust-level", kind: "int", roles: ["pool"], default: 3, min: 1, max: 3,
    doc: "Trust level a peer needs before its signed envelopes are applied (new bonds start at 1).",
  },
  {
    key: "bondPeers", env: "CELLULE_BOND_PEERS", flag: "bond-peers", kind: "list", roles: ["pool"], default: [], docDefault: "none",
    doc: "Peers (host:port or URLs, comma-separated) to bond with at boot once the pool is healthy; idempotent.",
  },
  {
    key: "fedAllowLoopbackUrl", env: "CELLULE_FED_ALLOW_LOOPBACK_URL", flag: "fed-allow-loopback-url", kind: "bool", roles: ["pool"],
    default: false, doc: "Tests only: accept a loopback or Docker-internal POOL_URL while federation is active.",
  },
  {
    key: "fedGossipMs", env: "CELLULE_FED_GOSSIP_MS", flag: "fed-gossip-ms", kind: "int", roles: ["pool"], default: 1000, min: 10,
    doc: "Relay interval: how often envelopes a trusted peer lacks are pushed (local changes are pushed at once).",
  },
  {
    key: "fedAntiEntropyMs", env: "CELLULE_FED_ANTI_ENTROPY_MS", flag: "fed-anti-entropy-ms", kind: "int", roles: ["pool"], default: 30_000, min: 50,
    doc: "Anti-entropy interval: peers exchange per-origin high-water marks and pull what they miss.",
  },
  {
    key: "fedProbeMs", env: "CELLULE_FED_PROBE_MS", flag: "fed-probe-ms", kind: "int", roles: ["pool"], default: 10_000, min: 50,
    doc: "Latency probe interval to each peer (topology: LAN < 5 ms, metro 5-30 ms, WAN > 30 ms).",
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
  // Worker lifecycle (provisioning, model delivery, upgrades, failover, activity): admin guide §2, FR §2.5-2.6, §4.6.1.
  {
    key: "provisionCodeTtlMs", env: "CELLULE_PROVISION_CODE_TTL_MS", flag: "provision-code-ttl-ms", kind: "int", roles: ["pool"],
    default: 24 * 3600_000, min: 1000, doc: "How long a single-use worker provisioning code stays valid if unused (24 h).",
  },
  {
    key: "modelStoreDir", env: "CELLULE_MODEL_STORE", flag: "model-store", kind: "path", roles: ["pool"],
    default: (p: Record<string, unknown>) => join(String(p.dataDir), "models"), docDefault: "<data dir>/models",
    doc: "Folder of GGUF files the pool serves to its workers (HTTP Range, SHA-256 recorded).",
  },
  {
    key: "workerBinariesDir", env: "CELLULE_WORKER_BINARIES", flag: "worker-binaries", kind: "path", roles: ["pool"],
    default: undefined, docDefault: "unset (the pool's own binary, for its own OS/arch)",
    doc: "Folder of cellule-<os>-<arch>[.exe] binaries (plus optional .sig) served to installers and self-updates.",
  },
  {
    key: "peerPoolUrls", env: "CELLULE_PEER_POOL_URLS", flag: "peer-pool-urls", kind: "list", roles: ["pool"],
    default: [], docDefault: "none", doc: "Bonded peer pools sent to workers in welcome.peer_pool_urls for failover.",
  },
  {
    key: "autoSelfUpdate", env: "CELLULE_AUTO_SELF_UPDATE", flag: "auto-self-update", kind: "bool", roles: ["pool"],
    default: true, doc: "Push self_update to workers running an older version (zero-touch upgrade).",
  },
  {
    key: "selfUpdateCooldownMs", env: "CELLULE_SELF_UPDATE_COOLDOWN_MS", flag: "self-update-cooldown-ms", kind: "int", roles: ["pool"],
    default: 10 * 60_000, min: 0, doc: "At most one self_update push per worker in this period (10 min).",
  },
  {
    key: "workerWorkingHours", env: "CELLULE_WORKER_WORKING_HOURS", flag: "worker-working-hours", kind: "string", roles: ["pool"],
    default: undefined, docDefault: "unset",
    doc: "Admin policy sent to workers: during these hours (e.g. \"mon-fri 08:00-18:00\", worker local time) desktops are at best throttled.",
  },
  {
    key: "workerThrottledPct", env: "CELLULE_WORKER_THROTTLED_PCT", flag: "worker-throttled-pct", kind: "int", roles: ["pool"],
    default: undefined, docDefault: "unset (each worker's own)", min: 0, max: 100,
    doc: "Admin policy sent to workers: host load (%) from which they report throttled.",
  },
  {
    key: "workerBusyPct", env: "CELLULE_WORKER_BUSY_PCT", flag: "worker-busy-pct", kind: "int", roles: ["pool"],
    default: undefined, docDefault: "unset (each worker's own)", min: 0, max: 100,
    doc: "Admin policy sent to workers: host load (%) from which they report busy and get no new jobs.",
  },
  {
    key: "workerConfigFile", env: "CELLULE_WORKER_CONFIG", flag: "config", kind: "path", roles: ["worker"],
    default: undefined, docDefault: "unset", doc: "JSON config written by the installer (pool, token, data_dir); flags and env override it.",
  },
  {
    key: "workerName", env: "CELLULE_WORKER_NAME", flag: "worker-name", kind: "string", roles: ["worker"], default: undefined,
    docDefault: "the enrolled name, else the host name", doc: "Name the worker shows in the dashboard.",
  },
  {
    key: "poolKey", env: "CELLULE_POOL_KEY", flag: "pool-key", kind: "string", roles: ["worker"], default: undefined,
    docDefault: "from config.json (enrolment)",
    doc: "The pool's Ed25519 release key (base64); self-updates not signed by it are refused. Unset: updates are trusted on the pool connection alone.",
  },
  {
    key: "auto", env: "CELLULE_AUTO", flag: "auto", kind: "bool", roles: ["worker"], default: false,
    doc: "Detect the hardware class, fetch the model the pool assigns to it, cap the context from (V)RAM.",
  },
  {
    key: "hardwareClass", env: "CELLULE_HARDWARE_CLASS", flag: "hardware-class", kind: "enum", roles: ["worker"], default: "auto",
    values: ["auto", "cpu-mid", "gpu-small", "gpu-large", "apple-m"], doc: "Override the detected hardware class.",
  },
  {
    key: "modelCacheMb", env: "CELLULE_MODEL_CACHE_MB", flag: "model-cache-mb", kind: "int", roles: ["worker"],
    default: 20_480, min: 1, doc: "Size limit of the worker's downloaded-model cache; least recently used files go first.",
  },
  {
    key: "failoverMode", env: "CELLULE_FAILOVER_MODE", flag: "failover-mode", kind: "enum", roles: ["worker"], default: "auto",
    values: ["auto", "manual"], doc: "auto: move to a bonded peer when the primary is DOWN; manual: only after the failsafe delay.",
  },
  {
    key: "failoverFailingMs", env: "CELLULE_FAILOVER_FAILING_MS", flag: "failover-failing-ms", kind: "int", roles: ["worker"],
    default: 90_000, min: 1, doc: "Time without the primary pool before FAILING (stay, audit-log).",
  },
  {
    key: "failoverDownMs", env: "CELLULE_FAILOVER_DOWN_MS", flag: "failover-down-ms", kind: "int", roles: ["worker"],
    default: 300_000, min: 1, doc: "Time without the primary pool before DOWN (auto mode moves to a peer).",
  },
  {
    key: "failoverRetryMs", env: "CELLULE_FAILOVER_RETRY_MS", flag: "failover-retry-ms", kind: "int", roles: ["worker"],
    default: 30_000, min: 1, doc: "How often a worker retries its primary pool while it is unreachable.",
  },
  {
    key: "failoverStickyMs", env: "CELLULE_FAILOVER_STICKY_MS", flag: "failover-sticky-ms", kind: "int", roles: ["worker"],
    default: 60_000, min: 1, doc: "While on a peer, how often to check the primary and return to it (sticky return).",
  },
  {
    key: "failoverFailsafeMs", env: "CELLULE_FAILOVER_FAILSAFE_MS", flag: "failover-failsafe-ms", kind: "int", roles: ["worker"],
    default: 24 * 3600_000, min: 1, doc: "In manual mode, fail over anyway after this long DOWN (24 h failsafe).",
  },
  {
    key: "activityWatch", env: "CELLULE_ACTIVITY", flag: "activity", kind: "enum", roles: ["worker"], default: "auto",
    values: ["auto", "cpu", "off"],
    doc: "Watch host activity: cpu (load besides the worker), off, or auto (cpu for --auto desktop workers, off for servers started with --model).",
  },
  {
    key: "activityThrottledPct", env: "CELLULE_ACTIVITY_THROTTLED_PCT", flag: "activity-throttled-pct", kind: "int", roles: ["worker"],
    default: 50, min: 0, max: 100, doc: "Host CPU load (not the worker's own, %) at which the worker reports throttled.",
  },
  {
    key: "activityBusyPct", env: "CELLULE_ACTIVITY_BUSY_PCT", flag: "activity-busy-pct", kind: "int", roles: ["worker"],
    default: 80, min: 0, max: 100, doc: "Host CPU load (not the worker's own, %) at which the worker reports busy and gets no new jobs.",
  },
  {
    key: "activityIntervalMs", env: "CELLULE_ACTIVITY_INTERVAL_MS", flag: "activity-interval-ms", kind: "int", roles: ["worker"],
    default: 5000, min: 50, doc: "How often the worker samples host activity.",
  },
  {
    key: "activityFile", env: "CELLULE_ACTIVITY_FILE", flag: "activity-file", kind: "path", roles: ["worker"],
    default: undefined, docDefault: "unset (measure /proc/stat)",
    doc: "Read the host load (0-100) from this file instead of measuring it (site agents, tests).",
  },
  // cellule proxy — the unified entry (admin guide §3); defaults are the reference nginx entry's.
  {
    key: "proxyHost", env: "CELLULE_PROXY_HOST", flag: "host", kind: "string", roles: ["proxy"], default: "0.0.0.0",
    doc: "Address the proxy listens on.",
  },
  {
    key: "proxyPort", env: "CELLULE_PROXY_PORT", flag: "port", kind: "int", roles: ["proxy"], default: 18080, min: 0, max: 65535,
    doc: "Port of the unified cluster entry. 0 picks a free port.",
  },
  {
    key: "proxyUpstreams", env: "CELLULE_PROXY_UPSTREAMS", flag: "upstream", kind: "list", roles: ["proxy"], default: [],
    docDefault: "none", doc: "Pool URLs behind the proxy (repeat the flag or comma-separate), e.g. http://10.0.0.11:18081.",
  },
  {
    key: "proxyUpstreamsFile", env: "CELLULE_PROXY_UPSTREAMS_FILE", flag: "upstreams-file", kind: "path", roles: ["proxy"],
    default: undefined, docDefault: "unset",
    doc: "A file with one pool URL per line (# comments); added to the upstream list, re-read on SIGHUP.",
  },
  {
    key: "proxyDiscover", env: "CELLULE_PROXY_DISCOVER", flag: "discover", kind: "bool", roles: ["proxy"], default: false,
    doc: "Also send requests to the pools the upstreams are federated with (their bonded peers at MIN_TRUST_LEVEL, from GET /v1/federation/entry-pools), kept up to date; the listed upstreams always stay.",
  },
  {
    key: "proxyDiscoverIntervalMs", env: "CELLULE_PROXY_DISCOVER_MS", flag: "discover-interval-ms", kind: "int", roles: ["proxy"],
    default: 30_000, min: 1_000, doc: "How often discovery asks a pool for the federation's pools (CELLULE_PROXY_DISCOVER).",
  },
  {
    key: "proxyMaxFails", env: "CELLULE_PROXY_MAX_FAILS", flag: "max-fails", kind: "int", roles: ["proxy"], default: 3, min: 1,
    doc: "Failed attempts within the fail timeout after which a pool is taken out (nginx max_fails).",
  },
  {
    key: "proxyFailTimeoutMs", env: "CELLULE_PROXY_FAIL_TIMEOUT_MS", flag: "fail-timeout-ms", kind: "int", roles: ["proxy"],
    default: 30_000, min: 100, doc: "Window for counting failures, and how long a failed pool stays out (nginx fail_timeout).",
  },
  {
    key: "proxyHealthIntervalMs", env: "CELLULE_PROXY_HEALTH_INTERVAL_MS", flag: "health-interval-ms", kind: "int", roles: ["proxy"],
    default: 5_000, min: 100, doc: "Interval of the active health check (GET /v1/status on every pool).",
  },
  {
    key: "proxyReadTimeoutMs", env: "CELLULE_PROXY_READ_TIMEOUT_MS", flag: "read-timeout-ms", kind: "int", roles: ["proxy"],
    default: 300_000, min: 1_000, doc: "How long a pool may stay silent (before the headers or between two chunks) before the request fails (nginx proxy_read_timeout).",
  },
  {
    key: "proxyConnectTimeoutMs", env: "CELLULE_PROXY_CONNECT_TIMEOUT_MS", flag: "connect-timeout-ms", kind: "int", roles: ["proxy"],
    default: 5_000, min: 100, doc: "How long opening a WebSocket or a health check to a pool may take.",
  },
  {
    key: "proxyMaxBodyBytes", env: "CELLULE_PROXY_MAX_BODY", flag: "max-body", kind: "int", roles: ["proxy"],
    default: 64 * 1024 * 1024, min: 1024,
    doc: "Largest request body the proxy buffers (bytes; larger ones get 413). Buffering lets a request that failed before any response byte be retried on the next pool, POST included.",
  },
  {
    key: "proxyTlsCert", env: "CELLULE_PROXY_TLS_CERT", flag: "tls-cert", kind: "path", roles: ["proxy"],
    default: undefined, docDefault: "unset (plain HTTP)",
    doc: "PEM certificate (chain) for serving HTTPS on the proxy port; needs CELLULE_PROXY_TLS_KEY. Prefer terminating TLS at the edge (admin guide §3.2).",
  },
  {
    key: "proxyTlsKey", env: "CELLULE_PROXY_TLS_KEY", flag: "tls-key", kind: "path", roles: ["proxy"],
    default: undefined, docDefault: "unset", doc: "PEM private key of CELLULE_PROXY_TLS_CERT.",
  },
]
