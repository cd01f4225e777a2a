// core/license/_jws — the few JWS compact-serialisation helpers licences need. Strict on purpose:
// only canonical base64url, only JSON objects; never decides whether a token is trusted.

const B64URL = /^[A-Za-z0-9_-]+$/

export const LICENSE_HEADER = Object.freeze({ alg: "EdDSA", typ: "JWT" })

export function b64urlEncode(bytes: Uint8Array | string): string {
  return Buffer.from(bytes).toString("base64url")
}

/** Decodes canonical unpadded base64url, or returns null (so one token has one spelling). */
export function b64urlDecode(segment: string): Uint8Array | null {
  if (!B64URL.test(segment) || segment.length % 4 === 1) return null
  const bytes = new Uint8Array(Buffer.from(segment, "base64url"))
  return b64urlEncode(bytes) === segment ? bytes : null
}

const utf8 = new TextDecoder("utf-8", { fatal: true })

/** Decodes a segment holding a UTF-8 JSON object, or returns null. */
export function decodeJsonSegment(segment: string): Record<string, unknown> | null {
  const bytes = b64urlDecode(segment)
  if (!bytes) return null
  try {
    const value: unknown = JSON.parse(utf8.decode(bytes))
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null
  } catch {
    return null
  }
}

/** `BASE64URL(header) "." BASE64URL(payload)`: the exact bytes the signature covers. */
export function signingInput(header: object, payload: object): string {
  return `${b64urlEncode(JSON.stringify(header))}.${b64urlEncode(JSON.stringify(payload))}`
}
