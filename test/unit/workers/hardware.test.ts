// Hardware classes and CTX_AUTO_CAP_BY_VRAM (FR guide §2.6), activity thresholds, version order.
import { describe, expect, test } from "bun:test"
import { classify, ctxCapFor, detectHardware, modelMemoryMb } from "../../../core/workers/hardware.ts"
import { classifyLoad, ActivityMonitor, parseWorkingHours } from "../../../core/workers/activity.ts"
import { compareVersions } from "../../../core/workers/upgrade.ts"
import type { Hardware } from "../../../core/workers/protocol.ts"

const GB = 1024
const hw = (h: Partial<Hardware>): Hardware => ({ os: "linux", arch: "x64", cpu_threads: 8, ram_mb: 16 * GB, ...h })

describe("hardware class", () => {
  test.each<[string, Hardware, string]>([
    ["CPU-only desktop", hw({}), "cpu-mid"],
    ["6 GB GPU", hw({ vram_mb: 6 * GB }), "gpu-small"],
    ["24 GB GPU", hw({ vram_mb: 24 * GB }), "gpu-large"],
    ["RTX 4090 (reports 24564 MB)", hw({ vram_mb: 24564 }), "gpu-large"],
    ["16 GB GPU", hw({ vram_mb: 16 * GB }), "gpu-small"],
    ["2 GB GPU (under the gpu-small floor)", hw({ vram_mb: 2 * GB }), "cpu-mid"],
    ["M1 (unified memory as VRAM)", hw({ os: "darwin", arch: "arm64", ram_mb: 8 * GB, vram_mb: 8 * GB }), "apple-m"],
  ])("%s is %s", (_n, h, cls) => {
    expect(classify(h)).toBe(cls as ReturnType<typeof classify>)
  })

  test("the thresholds are settings", () => {
    const t = { gpuLargeMinVramMb: 12 * GB, gpuSmallMinVramMb: 1 * GB }
    expect(classify(hw({ vram_mb: 16 * GB }), t)).toBe("gpu-large")
    expect(classify(hw({ vram_mb: 2 * GB }), t)).toBe("gpu-small")
  })

  test.each([
    [8 * GB, 8192],
    [16 * GB, 32768],
    [32 * GB, 131072],
    [192 * GB, 131072],
  ])("CTX_AUTO_CAP_BY_VRAM: %d MB caps the context at %d", (mb, ctx) => {
    expect(ctxCapFor(mb)).toBe(ctx)
  })

  test("the cap uses VRAM when there is a GPU, RAM otherwise; detection reports this machine", () => {
    expect(modelMemoryMb(hw({ vram_mb: 6 * GB }))).toBe(6 * GB)
    expect(modelMemoryMb(hw({}))).toBe(16 * GB)
    const me = detectHardware({ gpu: "off" })
    expect(me.cpu_threads).toBeGreaterThan(0)
    expect(me.ram_mb).toBeGreaterThan(0)
    expect(me.vram_mb).toBeUndefined()
  })
})

describe("activity", () => {
  test.each<[number | undefined, string]>([
    [undefined, "available"],
    [10, "available"],
    [50, "throttled"],
    [79, "throttled"],
    [80, "busy"],
  ])("host load %p%% is %s", (pct, want) => {
    expect(classifyLoad(pct, 50, 80)).toBe(want as ReturnType<typeof classifyLoad>)
  })

  test("the monitor reports each change once", () => {
    let load = 0
    const seen: string[] = []
    const m = new ActivityMonitor({
      probe: { hostLoadPct: () => load },
      throttledPct: 50,
      busyPct: 80,
      intervalMs: 1000,
      onChange: (a) => seen.push(a),
    })
    m.sample()
    load = 95
    m.sample()
    m.sample()
    load = 5
    m.sample()
    expect(seen).toEqual(["busy", "available"])
  })
})

test.each([
  ["0.1.0", "0.1.1", -1],
  ["0.2.10", "0.2.9", 1],
  ["1.0.0", "1.0.0", 0],
  ["1.0.0-rc1", "1.0.0", -1],
  ["v0.3", "0.3.0", 0],
])("compareVersions(%p, %p) = %p", (a, b, want) => {
  expect(compareVersions(a, b)).toBe(want)
})

describe("working hours", () => {
  const at = (iso: string) => new Date(iso).getTime() // local time, as the worker sees it
  test.each([
    ["mon-fri 08:00-18:00", "2026-11-23T09:30:00", true], // Monday
    ["mon-fri 08:00-18:00", "2026-11-23T18:00:00", false],
    ["mon-fri 08:00-18:00", "2026-11-28T10:00:00", false], // Saturday
    ["sat 10:00-12:00, mon-fri 08:00-18:00", "2026-11-28T10:00:00", true],
    ["fri-mon 00:00-23:59", "2026-11-29T12:00:00", true], // Sunday, wrapping range
  ])("%p at %s → %p", (spec, when, want) => {
    expect(parseWorkingHours(spec)(at(when))).toBe(want)
  })

  test("nonsense is refused; during working hours an idle desktop is at best throttled", () => {
    expect(() => parseWorkingHours("weekdays 9-5")).toThrow()
    let now = at("2026-11-23T09:30:00")
    const seen: string[] = []
    const m = new ActivityMonitor({
      probe: { hostLoadPct: () => 5 },
      throttledPct: 50,
      busyPct: 80,
      intervalMs: 1000,
      now: () => now,
      onChange: (a) => seen.push(a),
    })
    m.sample()
    m.setPolicy({ workingHours: parseWorkingHours("mon-fri 08:00-18:00"), busyPct: 90 })
    now = at("2026-11-23T19:00:00")
    m.sample()
    expect(seen).toEqual(["throttled", "available"])
  })
})
