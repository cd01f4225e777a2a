// core/federation/envelope — the signed unit of replication and its canonical encoding.
// The signature covers the exact bytes of canonical({v, origin, seq, hlc, kind, payload}); signed and
// verified here (gossip.ts calls verifyEnvelope before anything else about an envelope is trusted).
import { CelluleError } from "../errors.ts"
import { decodeHlc } from "./hlc.ts"
import { verifySig, type Identity } from "./identity.ts"

export interface Envelope {
  v: 1
  origin: string
  seq: number
  hlc: string
  kind: string
  payload: unknown
  sig: string
  /**
   * Served from a log where the payload was redacted (right to erasure): ids and a hash only, so the
   * signature no longer verifies; taken in its place from a trusted peer, never applied.
   */
  redacted?: true
}

/** Canonical JSON: object keys sorted by code unit, no whitespace, finite numbers only. */
export function canonical(value: unknown): string {
  if (value === null) return "null"
  switch (typeof value) {
    case "string":
    case "boolean":
      return JSON.stringify(value)
    case "number":
      if (!Number.isFinite(value)) throw new CelluleError("payload_invalid", "numbers must be finite", 400)
      return JSON.stringify(value)
    case "object": {
      if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`
      const keys = Object.keys(value as object)
        .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
        .sort()
      return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`).join(",")}}`
    }
  }
  throw new CelluleError("payload_invalid", `cannot encode a ${typeof value}`, 400)
}

const DOMAIN = "cellule.fed.envelope.v1\n"

export function signingBytes(e: Omit<Envelope, "sig">): Uint8Array {
  return Buffer.from(
    DOMAIN + canonical({ v: 1, origin: e.origin, seq: e.seq, hlc: e.hlc, kind: e.kind, payload: e.payload }),
  )
}

export function signEnvelope(id: Identity, e: { seq: number; hlc: string; kind: string; payload: unknown }): Envelope {
  const body = { v: 1 as const, origin: id.atomId, seq: e.seq, hlc: e.hlc, kind: e.kind, payload: e.payload }
  return { ...body, sig: id.sign(signingBytes(body)) }
}

/** Whether `e` was signed by the holder of `pubkey` (its origin's key). Shape is checked by malformed(). */
export function verifyEnvelope(pubkey: string, e: Envelope): boolean {
  return verifySig(pubkey, signingBytes(e), e.sig)
}

/** Shape check only (no signature): returns a reason code or null. */
export function malformed(e: unknown): string | null {
  if (!e || typeof e !== "object" || Array.isArray(e)) return "envelope_malformed"
  const x = e as Record<string, unknown>
  if (x.sig === undefined || x.sig === null || x.sig === "") return "envelope_unsigned"
  if (typeof x.origin !== "string" || !/^atom_[0-9a-f]{32}$/.test(x.origin)) return "envelope_malformed"
  if (x.v !== 1) return "envelope_version"
  if (typeof x.seq !== "number" || !Number.isSafeInteger(x.seq) || x.seq < 1) return "envelope_malformed"
  if (!decodeHlc(x.hlc)) return "envelope_malformed"
  if (typeof x.kind !== "string" || !x.kind) return "envelope_malformed"
  if (typeof x.sig !== "string") return "envelope_malformed"
  if (!("payload" in x)) return "envelope_malformed"
  return null
}
