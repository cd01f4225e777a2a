// core/proxy/forward — one HTTP request through the proxy: buffer the body, try the pools in plan
// order until one answers, then stream its answer back untouched. Never parses or rewrites bodies.
import { access, log } from "./_log.ts"
import { clientResponseHeaders, upstreamRequestHeaders, type ClientView } from "./_headers.ts"
import type { ProxyMetrics } from "./metrics.ts"
import type { Upstream, Upstreams } from "./upstreams.ts"

/** Statuses that mean "this pool did not take the request": safe to try the next pool. */
const RETRY_STATUSES = new Set([502, 503, 504])
/** Of those, the ones that also count as a failure of the pool (503 is a busy or gated pool, not a sick one). */
const FAIL_STATUSES = new Set([502, 504])

export interface ForwardDeps {
  upstreams: Upstreams
  metrics: ProxyMetrics
  readTimeoutMs: number
  maxBodyBytes: number
}

export function jsonError(status: number, error: string, message: string): Response {
  return new Response(JSON.stringify({ error, message }), { status, headers: { "content-type": "application/json" } })
}

/** Read the whole body, or undefined when it is larger than `max`. */
async function bufferBody(req: Request, max: number): Promise<Uint8Array<ArrayBuffer> | undefined> {
  if (!req.body) return new Uint8Array()
  const chunks: Uint8Array[] = []
  let size = 0
  for await (const c of req.body as unknown as AsyncIterable<Uint8Array>) {
    size += c.byteLength
    if (size > max) return undefined
    chunks.push(c)
  }
  return Bun.concatArrayBuffers(chunks, Infinity, true)
}

/** Attempts waiting on a pool, checked by one sweeper instead of a timer each (re-armed per chunk). */
const watched = new Set<SilenceTimer>()
/** How often the sweeper looks: a silent pool is cut at most this late (read timeouts are seconds). */
const SWEEP_MS = 250
let sweeper: ReturnType<typeof setInterval> | undefined

function sweep() {
  const now = performance.now()
  for (const t of watched) t.check(now)
  if (!watched.size) {
    clearInterval(sweeper)
    sweeper = undefined
  }
}

/**
 * nginx's proxy_read_timeout: aborts the attempt when the pool stays silent for `ms` — before its
 * headers or between two chunks — and when the client goes away. `touch()` on every byte received.
 * Fires between `ms` and `ms` + SWEEP_MS of silence, whatever the timeouts of other proxies in the process.
 */
class SilenceTimer {
  private readonly ac = new AbortController()
  private last = performance.now()
  private readonly onClientGone = () => this.ac.abort(new Error("client went away"))
  readonly signal = this.ac.signal

  constructor(
    private readonly client: AbortSignal | undefined,
    private readonly ms: number,
  ) {
    if (client?.aborted) this.ac.abort(new Error("client went away"))
    else client?.addEventListener("abort", this.onClientGone, { once: true })
    watched.add(this)
    sweeper ??= setInterval(sweep, SWEEP_MS)
  }

  touch(): void {
    this.last = performance.now()
  }

  check(now: number): void {
    if (now - this.last < this.ms) return
    this.done()
    this.ac.abort(Object.assign(new Error(`no byte from the pool for ${this.ms} ms`), { code: "read_timeout" }))
  }

  done(): void {
    watched.delete(this)
    this.client?.removeEventListener("abort", this.onClientGone)
  }
}

function errText(e: unknown): string {
  const err = e as { code?: string; message?: string }
  return err?.code ? `${err.code}` : String(err?.message ?? e)
}

export async function forward(
  req: Request,
  url: URL,
  client: ClientView,
  stickyKey: string | undefined,
  deps: ForwardDeps,
): Promise<Response> {
  const { upstreams, metrics } = deps
  const target = url.pathname + url.search
  const started = performance.now()
  const line = `${client.ip} "${req.method} ${target}"`
  let body: Uint8Array<ArrayBuffer> | undefined
  if (req.method !== "GET" && req.method !== "HEAD") {
    const declared = Number(req.headers.get("content-length") ?? 0)
    // Buffered so a pool that fails before answering can be replaced, POST included (nginx will not).
    body = declared > deps.maxBodyBytes ? undefined : await bufferBody(req, deps.maxBodyBytes)
    if (!body) {
      access.info(`${line} 413 request body over ${deps.maxBodyBytes} bytes`)
      return jsonError(
        413,
        "request_too_large",
        `request body larger than ${deps.maxBodyBytes} bytes (CELLULE_PROXY_MAX_BODY)`,
      )
    }
  }
  const headers = upstreamRequestHeaders(req.headers, client)
  const plan = upstreams.plan(stickyKey)
  if (!plan.length) return jsonError(503, "no_upstream", "the proxy has no pool configured (CELLULE_PROXY_UPSTREAMS)")
  metrics.inFlight++
  let lastError = "no pool answered"
  for (let i = 0; i < plan.length; i++) {
    const u = plan[i]
    const last = i === plan.length - 1
    u.inFlight++
    // A GET that the client gives up on is cheap to finish; watching the client costs every request
    // a little (Bun tracks its abort signal once asked for it), so only bodies are watched from here.
    // Streamed answers notice a client that leaves through their own cancel, GET or not.
    const silence = new SilenceTimer(body ? req.signal : undefined, deps.readTimeoutMs)
    /** Account for a failed attempt; a Response (499) when the client itself went away. */
    const attemptFailed = (e: unknown, why: string): Response | undefined => {
      silence.done()
      u.inFlight--
      if (req.signal.aborted) {
        metrics.inFlight--
        access.info(`${line} 499 client went away upstream=${u.url}`)
        return new Response(null, { status: 499 })
      }
      lastError = `${u.url}: ${errText(e)}`
      upstreams.fail(u, why)
      metrics.failure(u.url)
      metrics.request(u.url, "error")
      return undefined
    }
    let res: Response
    try {
      res = await fetch(u.url + target, {
        method: req.method,
        headers,
        body: body?.byteLength ? body : undefined,
        redirect: "manual",
        decompress: false,
        // Our own SilenceTimer is the read timeout; Bun's idle default (5 min) must not cut first.
        timeout: false,
        signal: silence.signal,
      })
      silence.touch()
    } catch (e) {
      const gone = attemptFailed(e, errText(e))
      if (gone) return gone
      if (!last) {
        metrics.retry(u.url)
        log.debug(`${line} attempt on ${u.url} failed before any response byte (${errText(e)}); retrying`)
        continue
      }
      break
    }
    if (RETRY_STATUSES.has(res.status) && !last) {
      silence.done()
      u.inFlight--
      if (FAIL_STATUSES.has(res.status)) {
        upstreams.fail(u, `HTTP ${res.status}`)
        metrics.failure(u.url)
      }
      metrics.request(u.url, res.status)
      metrics.retry(u.url)
      lastError = `${u.url}: HTTP ${res.status}`
      await res.body?.cancel().catch(() => {})
      continue
    }
    if (bufferable(res)) {
      // A bounded, non-streamed answer is read whole before the client sees a byte: cheaper than
      // relaying a stream, and a pool that dies halfway through it can still be replaced.
      let whole: ArrayBuffer
      try {
        whole = await res.arrayBuffer()
      } catch (e) {
        const gone = attemptFailed(e, `answer cut: ${errText(e)}`)
        if (gone) return gone
        if (!last) {
          metrics.retry(u.url)
          continue
        }
        break
      }
      silence.done()
      u.inFlight--
      u.succeed()
      metrics.inFlight--
      const ms = performance.now() - started
      metrics.observe(ms / 1000)
      metrics.request(u.url, res.status)
      access.info(`${line} ${res.status} ${whole.byteLength}B ${Math.round(ms)}ms upstream=${u.url} tries=${i + 1}`)
      return new Response(whole, {
        status: res.status,
        statusText: res.statusText,
        headers: clientResponseHeaders(res.headers),
      })
    }
    u.succeed()
    return relay(res, u, { line, started, tries: i + 1, deps, clientGone: () => req.signal.aborted, silence })
  }
  metrics.inFlight--
  metrics.observe((performance.now() - started) / 1000)
  access.warn(`${line} 502 every pool failed (${lastError})`)
  return jsonError(502, "upstream_unavailable", `no pool could take the request (${lastError})`)
}

/** Largest answer read whole instead of streamed (JSON completions, dashboard pages). */
const BUFFER_MAX = 1024 * 1024

function bufferable(res: Response): boolean {
  const length = res.headers.get("content-length")
  return (
    !!res.body &&
    length !== null &&
    Number(length) <= BUFFER_MAX &&
    !(res.headers.get("content-type") ?? "").startsWith("text/event-stream")
  )
}

/** Stream the pool's answer to the client as it comes (SSE included), and account for it at the end. */
function relay(
  res: Response,
  u: Upstream,
  o: {
    line: string
    started: number
    tries: number
    deps: ForwardDeps
    clientGone: () => boolean
    silence: SilenceTimer
  },
): Response {
  const { metrics, upstreams } = o.deps
  let bytes = 0
  let done = false
  const finish = (outcome: "ok" | "broken" | "client", why?: string) => {
    if (done) return
    done = true
    o.silence.done()
    u.inFlight--
    metrics.inFlight--
    const ms = performance.now() - o.started
    metrics.observe(ms / 1000)
    metrics.request(u.url, res.status)
    if (outcome === "broken") {
      metrics.brokenStream(u.url)
      upstreams.fail(u, `response cut: ${why}`)
      access.warn(
        `${o.line} ${res.status} ${bytes}B ${Math.round(ms)}ms upstream=${u.url} tries=${o.tries} cut after ${bytes} bytes: ${why}`,
      )
    } else {
      access.info(
        `${o.line} ${res.status} ${bytes}B ${Math.round(ms)}ms upstream=${u.url} tries=${o.tries}${outcome === "client" ? " client went away" : ""}`,
      )
    }
  }
  const headers = clientResponseHeaders(res.headers)
  if (!res.body) {
    finish("ok")
    return new Response(null, { status: res.status, statusText: res.statusText, headers })
  }
  const reader = res.body.getReader()
  const body = new ReadableStream<Uint8Array>(
    {
      async pull(c) {
        try {
          const { done: end, value } = await reader.read()
          if (end) {
            finish("ok")
            c.close()
            return
          }
          bytes += value.byteLength
          o.silence.touch()
          c.enqueue(value)
        } catch (e) {
          // The client hanging up aborts our read of the pool too: that is not the pool's fault.
          finish(o.clientGone() ? "client" : "broken", errText(e))
          // Erroring the stream makes the server drop the connection: the client sees a cut
          // response, never a truncated answer that looks complete.
          c.error(e)
        }
      },
      cancel(reason) {
        finish("client")
        void reader.cancel(reason).catch(() => {})
      },
    },
    { highWaterMark: 0 },
  )
  return new Response(body, { status: res.status, statusText: res.statusText, headers })
}
