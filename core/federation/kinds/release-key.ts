// Replicated kind "release_key": a pool's Ed25519 release PUBLIC key (core/workers/release-key.ts),
// keyed by its atom id, so a worker that failed over to a bonded peer can verify that peer's signed
// self-update offers (the pool hands the keys out in welcome.peer_release_keys). Never a private key:
// a payload carrying anything that looks like one is refused outright.
import type { Sql, Tx } from "../../db/client.ts"
import { CelluleError } from "../../errors.ts"
import type { ReplicatedKind, Stamp } from "./index.ts"
import { NEWER_WINS } from "./_lww.ts"

export interface ReleaseKeyPayload {
  atom_id: string
  /** Raw 32-byte Ed25519 public key, base64. */
  public_key: string
}

const invalid = (what: string) => new CelluleError("payload_invalid", what, 400)

export const releaseKeyReplica: ReplicatedKind<ReleaseKeyPayload> = {
  kind: "release_key",
  parse(payload) {
    const p = payload as (Partial<ReleaseKeyPayload> & Record<string, unknown>) | null
    if (!p || typeof p !== "object") throw invalid("payload must be an object")
    const extra = Object.keys(p).filter((k) => k !== "atom_id" && k !== "public_key")
    if (extra.length) throw invalid(`unexpected field(s) ${extra.join(", ")}: only atom_id and public_key replicate`)
    if (typeof p.atom_id !== "string" || !/^[\w.:-]{1,128}$/.test(p.atom_id)) throw invalid("atom_id is missing")
    if (
      typeof p.public_key !== "string" ||
      !/^[A-Za-z0-9+/]{43}=$/.test(p.public_key) ||
      Buffer.from(p.public_key, "base64").length !== 32
    )
      throw invalid("public_key must be a raw 32-byte Ed25519 key in base64")
    return { atom_id: p.atom_id, public_key: p.public_key }
  },
  async apply(sql: Sql | Tx, p, s: Stamp) {
    // A pool vouches only for its own key: an envelope signed by another atom never lands.
    if (p.atom_id !== s.origin) return false
    const rows = await sql.unsafe(
      `insert into release_keys as t (atom_id, public_key, hlc, origin) values ($1, $2, $3, $4)
       on conflict (atom_id) do update set public_key = excluded.public_key, hlc = excluded.hlc,
         origin = excluded.origin
       ${NEWER_WINS}
       returning atom_id`,
      [p.atom_id, p.public_key, s.hlc, s.origin],
    )
    return rows.length > 0
  },
}
