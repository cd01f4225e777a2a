// core/workers/input-idle — how long since someone touched the keyboard or mouse of a desktop, on
// macOS (ioreg's HIDIdleTime) and Windows (GetLastInputInfo). Parsers are pure and tested on recorded
// outputs; anything missing or odd is "unknown" (undefined), never "idle". Linux desktops: unknown.
import { readFileSync } from "node:fs"
import { logger } from "../log.ts"

const log = logger("workers.activity")

/** macOS: the HID system's idle time in nanoseconds (depth-limited: the full registry is large). */
export const IOREG_COMMAND = ["ioreg", "-c", "IOHIDSystem", "-d", "4", "-k", "HIDIdleTime"]

/**
 * Windows: milliseconds since the last input of the session it runs in, as one integer line.
 * TickCount and dwTime are both 32-bit millisecond counters: the difference is taken modulo 2^32.
 */
export const WINDOWS_IDLE_SCRIPT = [
  "Add-Type -Namespace Cellule -Name Input -MemberDefinition '",
  "[StructLayout(LayoutKind.Sequential)] public struct LASTINPUTINFO { public uint cbSize; public uint dwTime; }",
  '[DllImport("user32.dll")] public static extern bool GetLastInputInfo(ref LASTINPUTINFO p);',
  "';",
  "$i = New-Object Cellule.Input+LASTINPUTINFO; $i.cbSize = 8;",
  "if ([Cellule.Input]::GetLastInputInfo([ref]$i)) {",
  "[Console]::Out.WriteLine(([uint64][uint32][Environment]::TickCount - $i.dwTime + 4294967296) % 4294967296) }",
].join(" ")

export const WINDOWS_IDLE_COMMAND = ["powershell.exe", "-NoProfile", "-NonInteractive", "-Command", WINDOWS_IDLE_SCRIPT]

/** ms since the last input from `ioreg -c IOHIDSystem` output, or undefined. */
export function parseIoregIdle(out: string): number | undefined {
  // `| |   "HIDIdleTime" = 4312345678`; a machine with several HID systems lists the same clock twice.
  const m = /"HIDIdleTime"\s*=\s*(\d{1,20})\b/.exec(out)
  if (!m) return undefined
  const ns = Number(m[1])
  return Number.isSafeInteger(ns) ? Math.floor(ns / 1e6) : undefined
}

/**
 * ms since the last input from the Windows command's (or its helper file's) output, or undefined.
 * Bytes are decoded here: Windows PowerShell 5.1 writes files as UTF-16LE with a BOM by default.
 */
export function parseWindowsIdle(out: string | Uint8Array): number | undefined {
  const text =
    typeof out === "string"
      ? out
      : out[0] === 0xff && out[1] === 0xfe
        ? Buffer.from(out).subarray(2).toString("utf16le")
        : Buffer.from(out).toString("utf8")
  const s = text.replace(/^\uFEFF/, "").trim()
  if (!/^\d{1,10}$/.test(s)) return undefined
  const ms = Number(s)
  return ms < 2 ** 32 ? ms : undefined
}

function run(cmd: string[]): string | undefined {
  try {
    const r = Bun.spawnSync(cmd, { stdout: "pipe", stderr: "ignore", timeout: 5000 })
    return r.exitCode === 0 ? r.stdout.toString() : undefined
  } catch {
    return undefined
  }
}

/**
 * The probe for this platform: `file` (a Windows helper's output, see docs/workers.md) when given,
 * else the platform command. Returns undefined where input idleness cannot be measured.
 */
export function inputIdleProbe(platform = process.platform, file?: string): (() => number | undefined) | undefined {
  if (file)
    return () => {
      try {
        return parseWindowsIdle(readFileSync(file))
      } catch {
        return undefined
      }
    }
  const [cmd, parse] =
    platform === "darwin"
      ? [IOREG_COMMAND, parseIoregIdle]
      : platform === "win32"
        ? [WINDOWS_IDLE_COMMAND, parseWindowsIdle]
        : [undefined, undefined]
  if (!cmd || !parse) return undefined
  let warned = false
  return () => {
    const out = run(cmd)
    const ms = out === undefined ? undefined : parse(out)
    if (ms === undefined && !warned) {
      warned = true
      log.warn(`cannot read the input idle time (${cmd[0]}): keyboard and mouse use is not taken into account`)
    }
    return ms
  }
}
