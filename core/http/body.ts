// core/http/body — reads a JSON body with a hard size limit, whether or not Content-Length is sent,
// so a 10 MB body is refused with 413 without being held in memory whole.
import { CelluleError } from "../errors.ts"
import { PayloadTooLarge, UnsupportedMediaType } from "./errors.ts"
import { isJsonRequest, mediaType } from "./media-type.ts"

export async function readLimited(request: Request, limit: number): Promise<Uint8Array> {
  const declared = Number(request.headers.get("content-length") ?? NaN)
  if (declared > limit) throw new PayloadTooLarge(limit)
  // A declared length within the limit and no chunked framing: Bun holds the body to that length, so
  // it is read in one copy (no stream reader, no concatenation). Chunked bodies are counted as they come.
  if (declared >= 0 && !request.headers.has("transfer-encoding")) return new Uint8Array(await request.arrayBuffer())
  if (!request.body) return new Uint8Array()
  const reader = request.body.getReader()
  const parts: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > limit) {
      await reader.cancel().catch(() => {})
      throw new PayloadTooLarge(limit)
    }
    parts.push(value)
  }
  return Buffer.concat(parts)
}

const utf8 = new TextDecoder()

export async function parseJsonBody(request: Request, limit: number): Promise<unknown> {
  if (!isJsonRequest(request)) throw new UnsupportedMediaType(mediaType(request))
  const bytes = await readLimited(request, limit)
  if (bytes.byteLength === 0)
    throw new CelluleError("invalid_json", "request body is empty; expected a JSON document", 400)
  const depth = jsonDepth(bytes)
  if (depth > MAX_JSON_DEPTH)
    throw new CelluleError(
      "json_too_deep",
      `request body nests arrays/objects ${depth > 10_000 ? "over 10000" : depth} levels deep; the limit is ${MAX_JSON_DEPTH}`,
      400,
    )
  try {
    return JSON.parse(utf8.decode(bytes))
  } catch (e) {
    throw new CelluleError("invalid_json", `request body is not valid JSON: ${(e as Error).message}`, 400)
  }
}

/**
 * Deeper than any real request (a tool's JSON schema nests a few levels per property). Checked on the
 * bytes before parsing: schema validation of a 10 000-deep array took 32 s of CPU, 100 000 never ended.
 */
export const MAX_JSON_DEPTH = 64

/** The deepest nesting of [ and { outside strings; stops counting a little past the limit. */
export function jsonDepth(bytes: Uint8Array): number {
  let depth = 0
  let max = 0
  let inString = false
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i]
    if (inString) {
      if (c === 0x5c)
        i++ // backslash: skip the escaped byte
      else if (c === 0x22) inString = false
    } else if (c === 0x22) inString = true
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) max = depth
      if (max > 10_001) return max
    } else if (c === 0x5d || c === 0x7d) depth--
  }
  return max
}
