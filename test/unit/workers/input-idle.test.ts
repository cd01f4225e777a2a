// Input idleness on macOS and Windows, parsed from recorded command outputs (test/fixtures/input-idle/):
// real values come out in ms; missing, empty or odd outputs are unknown (undefined), never "idle".
import { describe, expect, test } from "bun:test"
import { readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { inputIdleProbe, parseIoregIdle, parseWindowsIdle } from "../../../core/workers/input-idle.ts"
import { ActivityMonitor, type ActivityProbe } from "../../../core/workers/activity.ts"
import { tempDir } from "../../support/proc.ts"

const FIXTURES = join(import.meta.dir, "../../fixtures/input-idle")
const text = (f: string) => readFileSync(join(FIXTURES, f), "utf8")
const bytes = (f: string) => readFileSync(join(FIXTURES, f))

describe("macOS: ioreg -c IOHIDSystem HIDIdleTime (nanoseconds)", () => {
  test.each([
    ["full IOHIDSystem dump (94 s idle)", "ioreg-macos-full.txt", 94_384],
    ["depth-limited, -k HIDIdleTime (1.5 ms after a keystroke)", "ioreg-macos-depth4.txt", 1],
    ["a VM without an HID system", "ioreg-macos-no-hid.txt", undefined],
    ["no output at all", "ioreg-empty.txt", undefined],
    ["a Windows output fed to the macOS parser", "windows-addtype-error.txt", undefined],
  ])("%s", (_name, file, ms) => {
    expect(parseIoregIdle(text(file))).toBe(ms)
  })

  test("an absurd value (beyond 2^53 ns) is unknown, not a very long idle", () => {
    expect(parseIoregIdle('"HIDIdleTime" = 99999999999999999999')).toBeUndefined()
  })
})

describe("Windows: GetLastInputInfo through PowerShell (milliseconds)", () => {
  test.each([
    ["the one-liner's output (CRLF)", bytes("windows-getlastinputinfo.txt"), 183_422],
    ["the helper's file in Windows PowerShell's default UTF-16LE", bytes("windows-helper-utf16.txt"), 60_421],
    ["Add-Type failing", bytes("windows-addtype-error.txt"), undefined],
    ["a negative tick difference", bytes("windows-negative.txt"), undefined],
    ["an ioreg output fed to the Windows parser", bytes("ioreg-macos-full.txt"), undefined],
    ["nothing", new Uint8Array(), undefined],
  ])("%s", (_name, out, ms) => {
    expect(parseWindowsIdle(out)).toBe(ms)
  })

  test("a helper file is read through the probe; a missing file is unknown", () => {
    const dir = tempDir()
    const file = join(dir, "input-idle.txt")
    const probe = inputIdleProbe("win32", file)!
    expect(probe()).toBeUndefined()
    writeFileSync(file, bytes("windows-helper-utf16.txt"))
    expect(probe()).toBe(60_421)
  })

  test("Linux has no input probe (the CPU measure alone decides)", () => {
    expect(inputIdleProbe("linux")).toBeUndefined()
  })
})

describe("the activity monitor with input idleness", () => {
  const idleCpu: ActivityProbe = { hostLoadPct: () => 5 }
  const monitor = (idle: number | undefined) =>
    new ActivityMonitor({
      probe: idleCpu,
      throttledPct: 50,
      busyPct: 80,
      intervalMs: 1000,
      inputIdleMs: () => idle,
      inputActiveMs: 120_000,
    })

  test.each([
    ["someone typed 1 s ago: throttled", 1000, "throttled"],
    ["untouched for 10 min: available", 600_000, "available"],
    ["unknown (no HID, failed command): the CPU decides", undefined, "available"],
  ])("%s", (_name, idle, want) => {
    expect(monitor(idle).sample()).toBe(want as "available" | "throttled")
  })

  test("a busy CPU stays busy whatever the input says", () => {
    const m = new ActivityMonitor({
      probe: { hostLoadPct: () => 95 },
      throttledPct: 50,
      busyPct: 80,
      intervalMs: 1000,
      inputIdleMs: () => 3_600_000,
      inputActiveMs: 120_000,
    })
    expect(m.sample()).toBe("busy")
  })
})
