// core/errors — the one error family. Every failure the product reports carries a stable
// snake_case code and the HTTP status the edge should use; the CLI maps it to an exit code.

export class CelluleError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
    readonly hint?: string,
    options?: ErrorOptions,
  ) {
    super(message, options)
    this.name = new.target.name
  }

  /** Extra fields merged into the JSON error body (e.g. setup_url, retry_after). */
  extra(): Record<string, unknown> {
    return {}
  }

  toJSON() {
    return { error: this.code, message: this.message, ...this.extra() }
  }
}

export class ConfigError extends CelluleError {
  constructor(message: string, hint?: string) {
    super("config_invalid", message, 500, hint)
  }
}

export class NotFound extends CelluleError {
  constructor(message = "not found", code = "not_found") {
    super(code, message, 404)
  }
}

export class BadRequest extends CelluleError {
  constructor(message: string, code = "bad_request") {
    super(code, message, 400)
  }
}

export class Unauthorized extends CelluleError {
  constructor(message = "authentication required", code = "unauthorized") {
    super(code, message, 401)
  }
}

export class Forbidden extends CelluleError {
  constructor(message: string, code = "forbidden") {
    super(code, message, 403)
  }
}

export class Conflict extends CelluleError {
  constructor(message: string, code = "conflict") {
    super(code, message, 409)
  }
}

export class ServiceUnavailable extends CelluleError {
  constructor(code: string, message: string, hint?: string, options?: ErrorOptions) {
    super(code, message, 503, hint, options)
  }
}

export class TooManyRequests extends CelluleError {
  constructor(
    code: string,
    message: string,
    readonly retryAfterS: number,
  ) {
    super(code, message, 429)
  }
  override extra() {
    return { retry_after: this.retryAfterS }
  }
}

/** Exit code for the CLI: usage/config problems are 2, everything else 1. */
export function exitCodeOf(err: unknown): number {
  if (err instanceof ConfigError) return 2
  return 1
}
