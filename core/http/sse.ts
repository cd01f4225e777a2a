// core/http/sse — a Server-Sent Events response whose writer knows when the client went away.
const enc = new TextEncoder()

export interface SseWriter {
  send(data: unknown): void
  comment(text: string): void
  close(): void
  readonly closed: boolean
}

/**
 * Open streams by keep-alive period, pinged by one interval per period instead of a timer per stream
 * (arming and clearing one per request was a share of a streamed completion's first token). A stream
 * is first pinged between 0 and one period after it opens, then every period. The interval stays once
 * armed (one per distinct period, unref'd): re-arming it whenever the set empties would again cost
 * a timer per request under sequential traffic.
 */
const open = new Map<number, Set<SseWriter>>()

function keepAlive(w: SseWriter, ms: number): () => void {
  let writers = open.get(ms)
  if (!writers) {
    const set = new Set<SseWriter>()
    setInterval(() => {
      for (const x of set)
        try {
          x.comment("keep-alive")
        } catch {
          // A stream the runtime already errored: its own cancel removes it; the others still get theirs.
          set.delete(x)
        }
    }, ms).unref()
    open.set(ms, set)
    writers = set
  }
  writers.add(w)
  const set = writers
  return () => void set.delete(w)
}

/** Build an SSE Response; `run` writes events and `onAbort` fires if the client disconnects first. */
export function sseResponse(run: (w: SseWriter) => void, onAbort: () => void, keepAliveMs = 10_000): Response {
  let ctrl!: ReadableStreamDefaultController<Uint8Array>
  let closed = false
  let stopPing: (() => void) | undefined
  const finish = () => {
    closed = true
    stopPing?.()
  }
  const writer: SseWriter = {
    get closed() {
      return closed
    },
    send(data) {
      if (closed) return
      ctrl.enqueue(enc.encode(`data: ${typeof data === "string" ? data : JSON.stringify(data)}\n\n`))
    },
    comment(text) {
      if (!closed) ctrl.enqueue(enc.encode(`: ${text}\n\n`))
    },
    close() {
      if (closed) return
      finish()
      ctrl.close()
    },
  }
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      ctrl = c
      // Queued requests may wait a while before the first token; comments keep proxies from timing out.
      stopPing = keepAlive(writer, keepAliveMs)
      run(writer)
    },
    cancel() {
      if (closed) return
      finish()
      onAbort()
    },
  })
  return new Response(stream, {
    headers: {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache",
      connection: "keep-alive",
      "x-accel-buffering": "no",
    },
  })
}
