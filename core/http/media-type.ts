// core/http/media-type — the one place that decides what a body is, from the MIME essence of
// Content-Type (RFC 9110 §8.3.1): type/subtype, lower-cased, parameters dropped. A parameter such as
// `;charset=json` never makes a form JSON (that was a CSRF bypass of the wizard).

/** `application/x-www-form-urlencoded;charset=json` → `application/x-www-form-urlencoded`. */
export function mediaType(request: Request): string {
  return (request.headers.get("content-type") ?? "").split(";")[0].trim().toLowerCase()
}

/**
 * A JSON body. Browsers cannot send one cross-site without a CORS preflight (it is not a
 * "simple" content type), so a JSON request is never a forged form post.
 */
export function isJsonRequest(request: Request): boolean {
  const t = mediaType(request)
  return t === "application/json" || (t.startsWith("application/") && t.endsWith("+json"))
}

/** An HTML form body: what a page on any site can make a browser post to us. */
export function isFormRequest(request: Request): boolean {
  const t = mediaType(request)
  return t === "application/x-www-form-urlencoded" || t === "multipart/form-data"
}
