import { describe, expect, test } from "bun:test"
import { CounterVec, Exposition, Histogram, routeLabel } from "../../../core/metrics/prom.ts"
import { metricValue, parsePrometheus } from "../../support/prom.ts"

describe("core/metrics/prom", () => {
  test("what it writes, the strict parser reads back (escapes, histogram buckets)", () => {
    const c = new CounterVec("x_total", "help with \\ backslash")
    c.inc({ route: 'a"b\\c\nd', code: 200 })
    c.inc({ route: 'a"b\\c\nd', code: 200 }, 2)
    const h = new Histogram("lat_seconds", "latency", [0.1, 1])
    h.observe(0.05)
    h.observe(0.5)
    h.observe(5)
    const out = new Exposition()
    c.render(out)
    h.render(out)
    out.gauge("g", "a gauge", [[undefined, 7]])
    const f = parsePrometheus(out.text())
    expect(metricValue(f, "x_total", { route: 'a"b\\c\nd', code: "200" })).toBe(3)
    expect(
      f
        .get("lat_seconds")!
        .samples.filter((s) => s.name === "lat_seconds_bucket")
        .map((s) => s.value),
    ).toEqual([1, 2, 3])
    expect(metricValue(f, "lat_seconds_sum", {}, "lat_seconds")).toBeCloseTo(5.55)
    expect(metricValue(f, "g")).toBe(7)
  })

  test("the parser refuses malformed expositions", () => {
    expect(() => parsePrometheus("x 1\n")).toThrow("without a # TYPE")
    expect(() => parsePrometheus("# TYPE x counter\nx{a=b} 1\n")).toThrow("bad label")
    expect(() => parsePrometheus("# TYPE x counter\nx one\n")).toThrow("bad value")
    expect(() => parsePrometheus("# TYPE x counter\nx 1")).toThrow("newline")
    expect(() =>
      parsePrometheus('# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n'),
    ).toThrow("cumulative")
  })

  test("route labels stay bounded: ids become :id", () => {
    expect(routeLabel("/v1/chat/completions")).toBe("/v1/chat/completions")
    expect(routeLabel("/v1/projects/p_123/documents/d_456")).toBe("/v1/projects/:id/documents/:id")
    expect(routeLabel("/v1/projects/my-secret-name/documents")).toBe("/v1/projects/:id/documents")
    expect(routeLabel("/workers")).toBe("/dashboard")
    expect(routeLabel("/assets/app.css")).toBe("/assets")
    expect(routeLabel("/metrics")).toBe("/metrics")
  })
})
