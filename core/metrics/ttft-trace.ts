// core/metrics/ttft-trace — for bench/ttft only: where a streamed generation's first token spends its
// time inside the pool. Off unless CELLULE_TTFT_TRACE is set (the pool enables it once at boot); off, each
// stamp site costs one test of a boolean. On, each stage of one request is stamped with the monotonic
// clock in µs (process.hrtime; its origin is per process in Bun, so only differences between stamps of one
// process mean something) and the stamps travel to the client as one SSE comment
// (`: ttft-trace {...}`) just before `[DONE]`.

/** The stages, in the order a request passes them. */
export const TTFT_STAGES = [
  /** Bun handed the request to the listener's fetch (head parsed). */
  "recv",
  /** The route handler runs: Elysia routing, global hooks, body read + JSON parse, schema validation done. */
  "handler",
  /** API key found (cache or database), limits checked. */
  "admitted",
  /** Guidance rules read, job parameters built: the scheduler is about to be called. */
  "submit",
  /** scheduler.submit returned: the job frame was handed to the worker's WebSocket. */
  "submitted",
  /** The Response left the app (afterHandle, security headers, request log) back to Bun. */
  "response",
  /** The worker's first token frame was parsed by the pool. */
  "token",
  /** Its SSE chunk was enqueued on the response stream. */
  "sse",
] as const
export type TtftStage = (typeof TTFT_STAGES)[number]
export type TtftStamps = Partial<Record<TtftStage, number>>

let on = false
const traces = new WeakMap<Request, TtftStamps>()

/** Called once at boot when the setting is on. */
export function enableTtftTrace() {
  on = true
}

/** The monotonic clock in µs. */
export const micros = () => Number(process.hrtime.bigint() / 1000n)

/** The stamps of `request` (created by the first stamp), or undefined when tracing is off. */
export function ttftTrace(request: Request): TtftStamps | undefined {
  if (!on) return undefined
  let t = traces.get(request)
  if (!t) {
    t = {}
    traces.set(request, t)
  }
  return t
}

/** Stamps `stage` on `request` now (the first time only). */
export function stamp(request: Request, stage: TtftStage) {
  if (!on) return
  const t = ttftTrace(request)!
  t[stage] ??= micros()
}
