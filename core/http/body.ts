// core/http/body — reads a JSON body with a hard size limit, whether or not Content-Length is sent,
// so a 10 MB body is refused with 413 without being held in memory whole.
import { CelluleError } from "../errors.ts"
import { PayloadTooLarge, UnsupportedMediaType } from "./errors.ts"
import { isJsonRequest, mediaType } from "./media-type.ts"

export async function readLimited(request: Request, limit: number): Promise<Uint8Array> {
  const declared = Number(request.headers.get("content-length") ?? NaN)
  if (declared > limit) throw new PayloadTooLarge(limit)
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

export async function parseJsonBody(request: Request, limit: number): Promise<unknown> {
  if (!isJsonRequest(request)) throw new UnsupportedMediaType(mediaType(request))
  const bytes = await readLimited(request, limit)
  if (bytes.byteLength === 0)
    throw new CelluleError("invalid_json", "request body is empty; expected a JSON document", 400)
  try {
    return JSON.parse(new TextDecoder().decode(bytes))
  } catch (e) {
    throw new CelluleError("invalid_json", `request body is not valid JSON: ${(e as Error).message}`, 400)
  }
}
