// Which paths stay on one pool per client (sticky) and which spread least-conn: one table for
// `cellule proxy` (core/proxy/index.ts isSticky) and the shipped nginx entry, tested against both.
export const STICKY_PATHS: readonly (readonly [path: string, sticky: boolean])[] = [
  // The dashboard, every page and its live updates: a session lives in one pool's database.
  ["/", true],
  ["/workers", true],
  ["/license", true],
  ["/federation", true],
  ["/balancing", true],
  ["/topology", true],
  ["/models", true],
  ["/overview/live", true],
  ["/overview/stream", true],
  ["/overview.json", true],
  ["/topology/live", true],
  ["/workers/provision", true],
  ["/balancing/keys/revoke", true],
  ["/assets/dashboard.js", true],
  ["/lang/fr", true],
  // Sign-in, one-time login links, the wizard.
  ["/login", true],
  ["/logout", true],
  ["/auth/once/abc", true],
  ["/setup/ui", true],
  ["/setup/step/2", true],
  // The admin API and the dashboard's admin forms.
  ["/v1/admin", true],
  ["/v1/admin/keys", true],
  ["/admin/license/upload", true],
  // Machine traffic: the OpenAI-compatible API, the health check, the rest of /v1/, the worker socket.
  ["/v1", false],
  ["/v1/chat/completions", false],
  ["/v1/models", false],
  ["/v1/embeddings", false],
  ["/v1/status", false],
  ["/v1/install/worker.sh", false],
  ["/v1/federation/identity", false],
  ["/v1/administrative", false],
  ["/ws", false],
]
