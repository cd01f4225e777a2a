// core/http/sse — a Server-Sent Events response whose writer knows when the client went away.
const enc = new TextEncoder()

export interface SseWriter {
  send(data: unknown): void
  comment(text: string): void
  close(): void
  readonly closed: boolean
}

/** Build an SSE Response; `run` writes events and `onAbort` fires if the client disconnects first. */
export function sseResponse(run: (w: SseWriter) => void, onAbort: () => void, keepAliveMs = 10_000): Response {
  let ctrl!: ReadableStreamDefaultController<Uint8Array>
  let closed = false
  let ping: ReturnType<typeof setInterval> | undefined
  const finish = () => {
    closed = true
    if (ping) clearInterval(ping)
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
      ping = setInterval(() => writer.comment("keep-alive"), keepAliveMs)
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
