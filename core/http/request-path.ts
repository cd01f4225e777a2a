// core/http/request-path — the pathname of a request, parsed once. The listener, the global hooks
// (origin check, peer guards, setup gate, body parser), the request log and the audit trail all need
// it; each used to parse `request.url` again (8 URL objects per chat completion). Same result as
// `new URL(request.url).pathname`: the URL parser's normalisation is kept, only its repetition goes.
const paths = new WeakMap<Request, string>()

export function pathOf(request: Request): string {
  let p = paths.get(request)
  if (p === undefined) {
    p = new URL(request.url).pathname
    paths.set(request, p)
  }
  return p
}
