// test/support/prom — a small strict parser of the Prometheus text format (0.0.4): every sample must
// belong to a family declared by # TYPE before it, names and labels must be well formed, values must be
// numbers, histograms must have cumulative buckets ending in +Inf equal to _count. Throws on anything else.

export interface Sample {
  name: string
  labels: Record<string, string>
  value: number
}
export interface Family {
  name: string
  type: string
  help?: string
  samples: Sample[]
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const TYPES = new Set(["counter", "gauge", "histogram", "summary", "untyped"])

function parseLabels(s: string, line: string): Record<string, string> {
  const out: Record<string, string> = {}
  let i = 0
  while (i < s.length) {
    const m = /^([a-zA-Z_][a-zA-Z0-9_]*)="/.exec(s.slice(i))
    if (!m) throw new Error(`bad label in: ${line}`)
    i += m[0].length
    let v = ""
    for (;;) {
      if (i >= s.length) throw new Error(`unterminated label value in: ${line}`)
      const c = s[i++]
      if (c === '"') break
      if (c === "\\") {
        const n = s[i++]
        if (n === "n") v += "\n"
        else if (n === "\\" || n === '"') v += n
        else throw new Error(`bad escape in: ${line}`)
      } else v += c
    }
    if (m[1] in out) throw new Error(`duplicate label ${m[1]} in: ${line}`)
    out[m[1]] = v
    if (i < s.length) {
      if (s[i] !== ",") throw new Error(`expected , in: ${line}`)
      i++
    }
  }
  return out
}

function parseValue(v: string, line: string): number {
  if (v === "+Inf") return Number.POSITIVE_INFINITY
  if (v === "-Inf") return Number.NEGATIVE_INFINITY
  if (v === "NaN") return Number.NaN
  if (!/^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(v)) throw new Error(`bad value in: ${line}`)
  return Number(v)
}

export function parsePrometheus(text: string): Map<string, Family> {
  if (!text.endsWith("\n")) throw new Error("exposition must end with a newline")
  const families = new Map<string, Family>()
  const familyOf = (sample: string): Family | undefined => {
    const f = families.get(sample)
    if (f) return f
    for (const suffix of ["_bucket", "_sum", "_count"])
      if (sample.endsWith(suffix)) {
        const h = families.get(sample.slice(0, -suffix.length))
        if (h && (h.type === "histogram" || h.type === "summary")) return h
      }
    return undefined
  }
  for (const line of text.slice(0, -1).split("\n")) {
    if (line === "") continue
    if (line.startsWith("#")) {
      const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line)
      if (!m) continue // a plain comment
      if (!NAME.test(m[2])) throw new Error(`bad metric name: ${line}`)
      const f = families.get(m[2]) ?? { name: m[2], type: "untyped", samples: [] }
      if (m[1] === "TYPE") {
        if (!TYPES.has(m[3])) throw new Error(`bad type: ${line}`)
        if (f.samples.length) throw new Error(`TYPE after samples: ${line}`)
        f.type = m[3]
      } else f.help = m[3]
      families.set(m[2], f)
      continue
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: (-?\d+))?$/.exec(line)
    if (!m) throw new Error(`bad sample line: ${line}`)
    const f = familyOf(m[1])
    if (!f) throw new Error(`sample without a # TYPE: ${line}`)
    f.samples.push({ name: m[1], labels: m[2] ? parseLabels(m[2], line) : {}, value: parseValue(m[3], line) })
  }
  for (const f of families.values()) {
    if (f.type !== "histogram") continue
    const buckets = f.samples.filter((s) => s.name === `${f.name}_bucket`)
    const count = f.samples.find((s) => s.name === `${f.name}_count`)
    if (!count || !f.samples.some((s) => s.name === `${f.name}_sum`)) throw new Error(`${f.name}: no _sum/_count`)
    let prev = 0
    for (const b of buckets) {
      if (b.value < prev) throw new Error(`${f.name}: buckets not cumulative`)
      prev = b.value
    }
    const inf = buckets.at(-1)
    if (inf?.labels.le !== "+Inf" || inf.value !== count.value)
      throw new Error(`${f.name}: last bucket must be +Inf and equal _count`)
  }
  return families
}

/** Sum of the family's samples named `name` whose labels include `match`. */
export function metricValue(
  fams: Map<string, Family>,
  name: string,
  match: Record<string, string> = {},
  family = name,
): number {
  const f = fams.get(family)
  if (!f) return 0
  return f.samples
    .filter((s) => s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v))
    .reduce((a, s) => a + s.value, 0)
}
