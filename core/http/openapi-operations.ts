// core/http/openapi-operations — one line per public API operation ("METHOD /elysia/path"): what it
// does, who may call it, its body and answers where the route does not declare an Elysia schema.
// openapi.ts joins it with the mounted routes; a mounted API route without a line fails a test.

export interface Operation {
  tag: keyof typeof TAGS
  summary: string
  description?: string
  /** Who may call: nobody in particular, an API key (or anonymous when allowed), an admin, a bonded pool, a worker. */
  auth: "public" | "key" | "admin" | "peer" | "worker"
  body?: Record<string, unknown>
  bodyType?: string
  response?: Record<string, unknown>
  responseType?: string
  responseDescription?: string
  status?: number
  errors?: [number, string][]
}

export const TAGS = {
  openai: "The OpenAI-compatible API: any OpenAI client works with base URL <pool>/v1 (docs/api-keys.md).",
  status: "Health, metrics and this reference.",
  keys: "API keys, anonymous access and usage (docs/api-keys.md).",
  projects: "Projects: documents, search and memories for grounded chats (docs/projects.md).",
  workers: "Workers: enrolment, tokens, models per hardware class, installers (docs/workers.md).",
  license: "The licence (docs/licensing.md).",
  admins: "Dashboard administrators.",
  audit: "The tamper-evident audit trail (docs/audit.md).",
  cluster: "Cluster-wide settings, sites and projects, replicated by signed gossip (docs/federation.md).",
  federation: "Bonding and federation administration (docs/federation.md).",
  peers: "Pool-to-pool calls, signed with the calling pool's Ed25519 key (docs/federation.md).",
} as const

const MESSAGES = { type: "array", items: { type: "object", required: ["role", "content"] } }
const CHAT_BODY = {
  type: "object",
  required: ["model", "messages"],
  properties: {
    model: { type: "string" },
    messages: MESSAGES,
    stream: { type: "boolean" },
    max_tokens: { type: "integer", minimum: 1 },
    temperature: { type: "number" },
    project: { type: "string", description: "ground the answer on a project's documents (docs/projects.md)" },
  },
}
const COMPLETION_BODY = {
  type: "object",
  required: ["model", "prompt"],
  properties: {
    model: { type: "string" },
    prompt: { type: "string" },
    stream: { type: "boolean" },
    max_tokens: { type: "integer" },
  },
}
const EMBEDDING_BODY = {
  type: "object",
  required: ["model", "input"],
  properties: {
    model: { type: "string" },
    input: { oneOf: [{ type: "string" }, { type: "array", items: { type: "string" } }] },
  },
}
const LIST = { type: "object", properties: { data: { type: "array", items: { type: "object" } } } }
const KEY_ERRORS: [number, string][] = [
  [401, "missing or unknown API key (when anonymous access is off)"],
  [403, "model_not_allowed"],
  [429, "rate or budget limit reached, or queue full"],
  [503, "no worker serves this model"],
]
const FORWARDED = "The same call forwarded by a bonded pool that cannot serve it (signed; docs/federation.md)."

const admin = (tag: Operation["tag"], summary: string, more: Partial<Operation> = {}): Operation => ({
  tag,
  summary,
  auth: "admin",
  ...more,
})
const peer = (summary: string, more: Partial<Operation> = {}): Operation => ({
  tag: "peers",
  summary,
  auth: "peer",
  ...more,
})

export const OPERATIONS: Record<string, Operation> = {
  // Health and reference.
  "GET /v1/status": { tag: "status", summary: "Health check: the pool is up and its database answers", auth: "public" },
  "GET /metrics": {
    tag: "status",
    summary: "Prometheus metrics (docs/metrics.md)",
    auth: "public",
    responseType: "text/plain",
  },
  "GET /openapi.json": { tag: "status", summary: "This OpenAPI 3.1 document", auth: "public" },
  "GET /docs": {
    tag: "status",
    summary: "This reference as a readable page",
    auth: "public",
    responseType: "text/html",
  },
  "GET /redoc": {
    tag: "status",
    summary: "Redirects to /docs",
    auth: "public",
    status: 308,
    responseDescription: "see /docs",
  },
  "GET /setup/state": {
    tag: "status",
    summary: "Whether the first-boot wizard is completed, and its answers (no secrets)",
    auth: "public",
  },
  "GET /setup/logo": {
    tag: "status",
    summary: "The company logo (PNG, JPEG or sanitised SVG)",
    auth: "public",
    responseType: "image/*",
  },
  // OpenAI-compatible.
  "GET /v1/models": { tag: "openai", summary: "The models this pool (and its bonded pools) can serve", auth: "public" },
  "POST /v1/chat/completions": {
    tag: "openai",
    summary: "Chat completion, streamed as Server-Sent Events with stream: true",
    auth: "key",
    body: CHAT_BODY,
    errors: KEY_ERRORS,
  },
  "POST /v1/completions": {
    tag: "openai",
    summary: "Text completion",
    auth: "key",
    body: COMPLETION_BODY,
    errors: KEY_ERRORS,
  },
  "POST /v1/embeddings": {
    tag: "openai",
    summary: "Embeddings of one text or a list",
    auth: "key",
    body: EMBEDDING_BODY,
    errors: KEY_ERRORS,
  },
  "POST /v1/federation/forward/chat/completions": peer(FORWARDED, { body: CHAT_BODY }),
  "POST /v1/federation/forward/completions": peer(FORWARDED, { body: COMPLETION_BODY }),
  "POST /v1/federation/forward/embeddings": peer(FORWARDED, { body: EMBEDDING_BODY }),
  // Keys and usage.
  "POST /v1/admin/keys": admin("keys", "Create an API key; its secret is in this answer only", { status: 201 }),
  "GET /v1/admin/keys": admin("keys", "List API keys (no secrets)", { response: LIST }),
  "DELETE /v1/admin/keys/:id": admin("keys", "Revoke an API key"),
  "GET /v1/admin/anonymous-access": admin("keys", "Whether calls without a key are accepted, and their limits"),
  "PUT /v1/admin/anonymous-access": admin("keys", "Turn anonymous access on or off, with its limits"),
  "GET /v1/admin/usage": admin("keys", "Tokens and requests per key and day, on this pool or across the cluster"),
  // Projects.
  "POST /v1/projects": { tag: "projects", summary: "Create a project", auth: "key", status: 201 },
  "GET /v1/projects": { tag: "projects", summary: "List the caller's projects", auth: "key", response: LIST },
  "GET /v1/projects/:pid": { tag: "projects", summary: "A project", auth: "key" },
  "PATCH /v1/projects/:pid": { tag: "projects", summary: "Rename a project or change its settings", auth: "key" },
  "DELETE /v1/projects/:pid": { tag: "projects", summary: "Delete a project and its documents", auth: "key" },
  "POST /v1/projects/:pid/documents": {
    tag: "projects",
    summary: "Upload a document (PDF, DOCX, text); it is extracted and indexed in the background",
    auth: "key",
    bodyType: "multipart/form-data",
    body: { type: "object", properties: { file: { type: "string", contentMediaType: "application/octet-stream" } } },
    status: 202,
  },
  "GET /v1/projects/:pid/documents": {
    tag: "projects",
    summary: "A project's documents and their ingest state",
    auth: "key",
    response: LIST,
  },
  "GET /v1/projects/:pid/documents/:id": { tag: "projects", summary: "One document", auth: "key" },
  "DELETE /v1/projects/:pid/documents/:id": { tag: "projects", summary: "Delete a document", auth: "key" },
  "GET /v1/projects/:pid/documents/:id/content": {
    tag: "projects",
    summary: "A document's original bytes",
    auth: "key",
    responseType: "application/octet-stream",
  },
  "POST /v1/projects/:pid/search": {
    tag: "projects",
    summary: "Hybrid (full-text and vector) search in a project",
    auth: "key",
  },
  "POST /v1/projects/:pid/memories": {
    tag: "projects",
    summary: "Remember a fact for the project's chats",
    auth: "key",
    status: 201,
  },
  "GET /v1/projects/:pid/memories": { tag: "projects", summary: "A project's memories", auth: "key", response: LIST },
  "DELETE /v1/projects/:pid/memories/:id": { tag: "projects", summary: "Forget a memory", auth: "key" },
  "GET /v1/projects/:pid/audit": { tag: "audit", summary: "A project's audit rows", auth: "key" },
  // Workers.
  "GET /v1/workers": { tag: "workers", summary: "How many workers and what they serve, in aggregate", auth: "public" },
  "GET /v1/admin/workers": admin("workers", "Each live worker: hardware, models, slot use"),
  "POST /v1/admin/workers/provision": admin(
    "workers",
    "A single-use enrolment code and ready-to-paste install snippets",
  ),
  "GET /v1/admin/workers/tokens": admin("workers", "Enrolled workers (no secrets)", { response: LIST }),
  "POST /v1/admin/workers/tokens/:id/revoke": admin(
    "workers",
    "Revoke a worker's token; its connections close at once",
  ),
  "POST /v1/admin/workers/:worker_id/revoke": admin("workers", "Revoke a worker by the id it joined with"),
  "GET /v1/admin/workers/audit": admin("workers", "The worker audit log"),
  "GET /v1/admin/models/classes": admin("workers", "The model each hardware class serves"),
  "PUT /v1/admin/models/classes/:class": admin("workers", "Choose the model a hardware class serves"),
  "POST /v1/admin/models": admin(
    "workers",
    "Upload a .gguf (?file_name=NAME.gguf, the file as the raw body, streamed; header checked)",
    {
      errors: [
        [400, "gguf_invalid"],
        [400, "gguf_truncated"],
        [409, "catalogue_read_only"],
        [413, "model_too_large"],
      ],
    },
  ),
  "GET /v1/admin/models": admin("workers", "The catalogue: files with size, SHA-256, parsed header and assignments"),
  "POST /v1/admin/models/promote-master": admin("workers", "Make this pool the catalogue master (signed, replicated)"),
  "DELETE /v1/admin/models/:file_name": admin("workers", "Delete a model file (refused while assigned)", {
    errors: [[409, "model_assigned"]],
  }),
  "PUT /v1/admin/models/tiers/:tier": admin("workers", "Choose the model a tier (fast, reasoning, code) serves"),
  "POST /v1/admin/models/:file_name/probe": admin("workers", "Run the control prompts on one isolated worker"),
  "GET /v1/admin/models/:file_name/probe": admin("workers", "The probe's result, with the answers"),
  "POST /v1/admin/models/:file_name/probe/accept": admin("workers", "Accept a flagged model for assignment"),
  "GET /v1/admin/migration-orders": admin("workers", "Worker migration orders, their state and history"),
  "POST /v1/admin/migration-orders": admin("workers", "Move a worker to another pool"),
  "POST /v1/admin/migration-orders/:id/approve": admin("workers", "Approve a migration order still issued"),
  "POST /v1/admin/migration-orders/:id/reject": admin("workers", "Reject a migration order still issued"),
  "GET /v1/admin/worker-pins": admin("workers", "Workers pinned to a home pool (the balancer never moves them)"),
  "PUT /v1/admin/workers/:id/home-pool": admin("workers", "Pin a worker to its home pool, or unpin it (null)"),
  "GET /v1/install/:file": {
    tag: "workers",
    summary: "A worker installer script (worker.sh, worker.ps1 and their uninstallers)",
    auth: "public",
    responseType: "text/plain",
  },
  "GET /v1/install/release-key": {
    tag: "workers",
    summary: "The Ed25519 key that signs worker self-update offers",
    auth: "public",
  },
  "GET /v1/install/bin/:name": {
    tag: "workers",
    summary: "A worker binary or its .sha256",
    auth: "public",
    responseType: "application/octet-stream",
  },
  "POST /v1/provisioning/redeem": {
    tag: "workers",
    summary: "Redeem a single-use code for a worker's config.json",
    auth: "public",
  },
  "GET /v1/worker/assignment": {
    tag: "workers",
    summary: "The model assigned to the worker's hardware class",
    auth: "worker",
  },
  "GET /v1/models/files/:name": {
    tag: "workers",
    summary: "A model file (GGUF), with HTTP Range so downloads resume",
    auth: "worker",
    responseType: "application/octet-stream",
  },
  // Licence and administrators.
  "GET /v1/admin/license": admin("license", "The licence: tier, client, expiry, state"),
  "DELETE /v1/admin/license": admin("license", "Remove the licence"),
  "POST /v1/admin/license/upload": admin("license", "Install a licence token", { errors: [[400, "licence invalid"]] }),
  "POST /v1/admin/license/enforce": admin("license", "Turn licence enforcement on or off"),
  "GET /v1/admin/admins": admin("admins", "The dashboard's administrators", { response: LIST }),
  "POST /v1/admin/admins": admin("admins", "Add an administrator", {
    errors: [
      [402, "limit_reached: the licence's max_users"],
      [403, "admin_scope_forbidden: a scoped administrator"],
    ],
  }),
  "PUT /v1/admin/admins/:id/projects": admin("admins", "Scope an administrator to projects (null: every project)", {
    errors: [
      [403, "admin_scope_forbidden: a scoped administrator"],
      [404, "admin_not_found or project_not_found"],
    ],
  }),
  // Audit.
  "GET /v1/admin/audit": admin("audit", "Audit rows, filtered"),
  "GET /v1/admin/audit/verify": admin("audit", "Verify the hash chain of the audit trail"),
  "GET /v1/admin/audit/cluster": admin("audit", "Audit rows of this pool and its trusted peers"),
  "GET /v1/admin/audit/export": admin("audit", "Export audit rows as CSV", { responseType: "text/csv" }),
  // Cluster-wide replicated resources.
  "GET /v1/admin/settings": admin("cluster", "Every cluster-wide setting"),
  "GET /v1/admin/settings/:key": admin("cluster", "One cluster-wide setting"),
  "PUT /v1/admin/settings/:key": admin("cluster", "Change a setting; bonded pools receive it by signed gossip", {
    errors: [
      [400, "the value is refused, with the reason"],
      [
        409,
        "settings_read_only (a satellite: change it on master_url), setting_forced_by_environment, setting_startup_only",
      ],
    ],
  }),
  "GET /v1/admin/branding": admin("cluster", "The company name and logo every bonded pool shows, and who changes them"),
  "PUT /v1/admin/branding": admin(
    "cluster",
    "Change the company name and/or logo ({company, logo: {base64}, remove_logo}); bonded pools receive them by signed gossip",
    {
      errors: [
        [400, "company_invalid or logo_too_large / logo_type / logo_invalid, with the reason"],
        [409, "settings_read_only (a satellite: change it on master_url), or setup not completed"],
      ],
    },
  ),
  "GET /v1/admin/sites": admin("cluster", "The sites and their declared headcount"),
  "PUT /v1/admin/sites/:site_id": admin("cluster", "Change a site: name, declared headcount, serving pool (optional)"),
  "GET /v1/admin/projects": admin("cluster", "Every project of the cluster"),
  "POST /v1/admin/projects": admin("cluster", "Create a project for a team"),
  // The pool VIP (keepalived, docs/vip.md).
  "GET /v1/cluster/vip-info": admin(
    "cluster",
    "What a joining pool needs to join the VIP group (VRRP password included)",
    {
      description:
        "VIP address, prefix and CIDR, interface hint, virtual_router_id, port and auth_pass. An administrator or a trusted bonded pool (signed call); 401 otherwise. `configured: false` when the wizard set no VIP.",
      errors: [[401, "admin_auth_required / request_unsigned / peer_unknown"]],
    },
  ),
  "GET /v1/cluster/vip-self": admin("cluster", "This pool's role in the VIP: settings, state, last transition", {
    description:
      "configured, state (MASTER / BACKUP / FAULT / STOPPED as `cellule vip` last reported; UNKNOWN when it has not reported for 15 s), supervised, last_transition, priority, holds_vip. An administrator, or this host's `cellule vip` with the agent token (Bearer, from <data dir>/vip/agent.token), which alone also gets auth_pass.",
    errors: [[401, "admin_auth_required"]],
  }),
  "POST /v1/cluster/vip-self": {
    tag: "cluster",
    summary: "`cellule vip` reports its VRRP state (agent token only)",
    auth: "admin",
    body: {
      type: "object",
      required: ["state"],
      properties: { state: { enum: ["MASTER", "BACKUP", "FAULT", "STOPPED"] }, priority: { type: "integer" } },
    },
    errors: [
      [400, "vip_state_invalid"],
      [401, "vip_agent_required"],
    ],
  },
  // Federation administration.
  "POST /v1/federation/admin/register": admin("federation", "Bond with another pool"),
  "POST /v1/federation/admin/attachment-tokens": admin("federation", "An attachment token another pool bonds with"),
  "GET /v1/federation/peers": admin("federation", "Bonded pools and their trust"),
  "POST /v1/federation/peers/:atom_id/promote": admin("federation", "Trust a bonded pool"),
  "POST /v1/federation/peers/:atom_id/revoke": admin("federation", "Revoke a pool: its envelopes are refused"),
  "DELETE /v1/federation/peers/:atom_id": admin("federation", "Unbond a pool"),
  "GET /v1/federation/status": admin("federation", "What the federation is doing: loops, lag, last gossip"),
  "GET /v1/federation/topology": admin("federation", "Sites, pools and measured latencies"),
  "GET /v1/federation/rejects": admin("federation", "Envelopes refused, with the reason"),
  "GET /v1/federation/log": admin("federation", "The envelope log"),
  // Pool to pool.
  "GET /v1/federation/identity": {
    tag: "peers",
    summary: "Who this pool is (atom id, public key), for bonding",
    auth: "public",
  },
  "GET /v1/federation/ping": { tag: "peers", summary: "Latency probe", auth: "public" },
  "GET /v1/federation/entry-pools": {
    tag: "peers",
    summary: "This pool and its trusted peers, for `cellule proxy --discover`",
    auth: "public",
  },
  "GET /v1/federation/forward-capacity": peer("What this pool can serve, for a peer choosing where to forward"),
  "GET /v1/federation/key-usage": peer("This pool's counts per API key, merged by peers"),
  "GET /v1/federation/key-usage-daily": peer("This pool's counts per API key and day"),
  "POST /v1/federation/peer-audit": peer("This pool's audit rows, for the cluster audit view"),
  "POST /v1/federation/p2p/hello": peer("Bonding handshake"),
  "POST /v1/federation/p2p/gossip": peer("Receive signed envelopes"),
  "POST /v1/federation/p2p/pull": peer("Envelopes a peer missed"),
  "GET /v1/federation/p2p/hw": peer("This pool's hardware summary"),
  "GET /v1/federation/p2p/document-bytes/:hash": peer("A replicated document's original bytes", {
    responseType: "application/octet-stream",
  }),
  "GET /v1/federation/p2p/model-files/:name": peer("A catalogue model file, for a satellite copying it (HTTP Range)", {
    responseType: "application/octet-stream",
  }),
  "GET /v1/federation/p2p/links": peer("This pool's links and their measured latency"),
  "POST /v1/federation/login-links/consume": peer("Spend one of this pool's one-time login links"),
}
