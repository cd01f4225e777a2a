// core/http/file-response — a stored model file as an HTTP answer with Range (206) so downloads resume:
// the workers' download (routes/model-files.ts) and a satellite's copy from the master (routes/federation-p2p.ts).
import { CelluleError } from "../errors.ts"
import type { StoredModel } from "../catalog/store.ts"

/** Parse `bytes=a-b`, `bytes=a-`, `bytes=-n` for a file of `size`; null when absent, throws 416. */
export function parseRange(header: string | null, size: number): { start: number; end: number } | null {
  if (!header) return null
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim())
  if (!m || (m[1] === "" && m[2] === "")) return null
  let start: number
  let end: number
  if (m[1] === "") {
    start = Math.max(0, size - Number(m[2]))
    end = size - 1
  } else {
    start = Number(m[1])
    end = m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1)
  }
  if (start >= size || start > end) {
    throw Object.assign(
      new CelluleError("range_not_satisfiable", `range ${header} is outside the file (${size} bytes)`, 416),
      { size },
    )
  }
  return { start, end }
}

/** A stored model file as an HTTP answer: whole (200) or the asked range (206), 416 outside it. */
export function storedFileResponse(m: StoredModel, rangeHeader: string | null): Response {
  const common = {
    "accept-ranges": "bytes",
    "content-type": "application/octet-stream",
    "x-cellule-sha256": m.sha256,
  }
  let range: ReturnType<typeof parseRange>
  try {
    range = parseRange(rangeHeader, m.size)
  } catch (e) {
    return new Response(JSON.stringify({ error: "range_not_satisfiable", message: (e as Error).message }), {
      status: 416,
      headers: { ...common, "content-type": "application/json", "content-range": `bytes */${m.size}` },
    })
  }
  const file = Bun.file(m.path)
  if (!range) return new Response(file, { headers: { ...common, "content-length": String(m.size) } })
  return new Response(file.slice(range.start, range.end + 1), {
    status: 206,
    headers: {
      ...common,
      "content-length": String(range.end - range.start + 1),
      "content-range": `bytes ${range.start}-${range.end}/${m.size}`,
    },
  })
}
