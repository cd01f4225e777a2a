// core/http/headers — security headers on every response (dashboard and API alike).
export const SECURITY_HEADERS: Record<string, string> = {
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "same-origin",
  "cross-origin-opener-policy": "same-origin",
  "permissions-policy": "camera=(), microphone=(), geolocation=()",
  // Everything is served from the binary: no CDN, no third-party origin is ever needed.
  "content-security-policy":
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
}

const ENTRIES = Object.entries(SECURITY_HEADERS)

export function withSecurityHeaders(res: Response): Response {
  const h = res.headers
  for (const [k, v] of ENTRIES) if (!h.has(k)) h.set(k, v)
  return res
}
