// core/license/revocation — the revocation list shipped inside each release (revoked_clients.json).
// Release-gated on purpose: nothing here ever fetches state from outside the binary.
import { CelluleError } from "../errors.ts"
import { CLIENT_ID_PATTERN } from "./claims.ts"
import shipped from "./revoked_clients.json"

export const REVOCATION_SCHEMA_VERSION = 1

export interface RevocationEntry {
  readonly reason: string
  readonly revoked_at: string
}

export interface RevocationList {
  readonly schemaVersion: number
  readonly lastUpdated: string | null
  readonly clients: ReadonlyMap<string, RevocationEntry>
}

/** Parses `{"_schema_version": 1, "_last_updated": "…", "revoked": {client_id: {reason, revoked_at}}}`. */
export function parseRevocationList(json: unknown): RevocationList {
  const invalid = (why: string) =>
    new CelluleError(
      "revocation_list_invalid",
      `revoked_clients.json: ${why}`,
      500,
      "fix the file and rebuild the release",
    )
  if (!isObject(json)) throw invalid("not a JSON object")
  if (json._schema_version !== REVOCATION_SCHEMA_VERSION)
    throw invalid(`_schema_version must be ${REVOCATION_SCHEMA_VERSION}, got ${JSON.stringify(json._schema_version)}`)
  const lastUpdated = json._last_updated ?? null
  if (lastUpdated !== null && typeof lastUpdated !== "string") throw invalid("_last_updated must be a date string")
  if (!isObject(json.revoked)) throw invalid("revoked must be an object keyed by client_id")
  const clients = new Map<string, RevocationEntry>()
  for (const [clientId, entry] of Object.entries(json.revoked)) {
    if (!CLIENT_ID_PATTERN.test(clientId)) throw invalid(`${JSON.stringify(clientId)} is not a valid client_id`)
    if (!isObject(entry) || typeof entry.reason !== "string" || typeof entry.revoked_at !== "string")
      throw invalid(`${clientId} needs a reason and a revoked_at string`)
    clients.set(clientId, Object.freeze({ reason: entry.reason, revoked_at: entry.revoked_at }))
  }
  return Object.freeze({ schemaVersion: REVOCATION_SCHEMA_VERSION, lastUpdated, clients })
}

/** The list this build ships. A malformed file fails at load, so a broken release cannot start. */
export const shippedRevocationList: RevocationList = parseRevocationList(shipped)

export function isRevoked(list: RevocationList, clientId: string): boolean {
  return list.clients.has(clientId)
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v)
}
