// core/http/errors — the single place where failures become HTTP responses:
// CelluleError → {error, message} with its status; anything else → 500 internal_error, no stack.
import { CelluleError } from "../errors.ts"
import { logger } from "../log.ts"

const log = logger("http")

export class PayloadTooLarge extends CelluleError {
  constructor(limit: number) {
    super("payload_too_large", `request body is larger than the ${limit}-byte limit`, 413)
  }
}

export class UnsupportedMediaType extends CelluleError {
  constructor(got: string) {
    super("unsupported_media_type", `expected Content-Type application/json, got ${got || "none"}`, 415)
  }
}

export function jsonError(err: CelluleError, headers: Record<string, string> = {}): Response {
  const h: Record<string, string> = { "content-type": "application/json; charset=utf-8", ...headers }
  // 429 (rate limits, queue_full) and 503 cluster_setup_pending say when to come back.
  if ("retryAfterS" in err) h["retry-after"] = String((err as { retryAfterS: number }).retryAfterS)
  return new Response(JSON.stringify(err.toJSON()), { status: err.status, headers: h })
}

/** Map Elysia's own error codes and unknown errors to our error family. */
export function toCelluleError(code: string | number, error: unknown, requestId: string): CelluleError {
  if (error instanceof CelluleError) return error
  // Elysia wraps anything thrown while parsing in its ParseError; ours travels as the cause.
  const cause = (error as { cause?: unknown })?.cause
  if (cause instanceof CelluleError) return cause
  switch (code) {
    case "NOT_FOUND":
      return new CelluleError("not_found", "no such route", 404)
    case "PARSE":
      return new CelluleError("invalid_json", "request body is not valid JSON", 400)
    case "VALIDATION": {
      const e = error as { all?: { path?: string; summary?: string; message?: string }[]; message?: string }
      const first = e.all?.[0]
      const where = first?.path ? `${first.path.replace(/^\//, "").replace(/\//g, ".")}: ` : ""
      return new CelluleError(
        "validation_failed",
        `${where}${first?.summary ?? first?.message ?? "invalid request"}`,
        400,
      )
    }
    case "INVALID_COOKIE_SIGNATURE":
      return new CelluleError("invalid_cookie", "invalid cookie signature", 400)
  }
  log.error(`request ${requestId} failed:`, error)
  return new CelluleError("internal_error", `internal error (request id ${requestId})`, 500)
}
