// core/workers/hardware — what this machine is: OS, CPU, RAM, GPU memory, its hardware class
// (cpu-mid, gpu-small, gpu-large, apple-m) and the context cap that memory allows (FR guide §2.6).
// Detection only reads the system; the classification and the cap are pure functions.
import { arch, cpus, platform, totalmem } from "node:os"
import { existsSync, readdirSync, readFileSync } from "node:fs"
import type { Hardware, HardwareClass } from "./protocol.ts"

/**
 * Hardware class thresholds (admin guide §4.9.4: gpu-large from 24 GB cards, which report a little
 * under 24 576 MB; gpu-small from 6 GB cards). Settings CELLULE_GPU_LARGE_MIN_VRAM_MB and
 * CELLULE_GPU_SMALL_MIN_VRAM_MB override them; a GPU under the gpu-small floor counts as cpu-mid.
 */
export const GPU_LARGE_MIN_MB = 23 * 1024
export const GPU_SMALL_MIN_MB = 4 * 1024
export interface ClassThresholds {
  gpuLargeMinVramMb: number
  gpuSmallMinVramMb: number
}

/**
 * CTX_AUTO_CAP_BY_VRAM (FR guide §2.6): the context a 4B Q4 model may use for the memory the
 * accelerator sees (unified memory on Apple Silicon, RAM on a CPU-only machine). Ordered by memory.
 */
export const CTX_AUTO_CAP_BY_VRAM: readonly { maxMb: number; ctx: number }[] = [
  { maxMb: 8 * 1024, ctx: 8192 },
  { maxMb: 16 * 1024, ctx: 32768 },
  { maxMb: Number.POSITIVE_INFINITY, ctx: 131072 },
]

export function ctxCapFor(memoryMb: number): number {
  return CTX_AUTO_CAP_BY_VRAM.find((r) => memoryMb <= r.maxMb)!.ctx
}

export function classify(
  hw: Hardware,
  t: ClassThresholds = { gpuLargeMinVramMb: GPU_LARGE_MIN_MB, gpuSmallMinVramMb: GPU_SMALL_MIN_MB },
): HardwareClass {
  if (hw.os === "darwin" && hw.arch === "arm64") return "apple-m"
  if (hw.vram_mb && hw.vram_mb >= t.gpuLargeMinVramMb) return "gpu-large"
  if (hw.vram_mb && hw.vram_mb >= t.gpuSmallMinVramMb) return "gpu-small"
  return "cpu-mid"
}

/** The memory the model's context lives in: VRAM (unified RAM on Apple Silicon), else RAM. */
export function modelMemoryMb(hw: Hardware): number {
  return hw.vram_mb && hw.vram_mb > 0 ? hw.vram_mb : hw.ram_mb
}

/** NVIDIA through nvidia-smi, AMD through sysfs; none: undefined. Never throws. */
function detectGpu(): { vram_mb: number; gpu: string } | undefined {
  try {
    const smi = Bun.which("nvidia-smi")
    if (smi) {
      const r = Bun.spawnSync([smi, "--query-gpu=name,memory.total", "--format=csv,noheader,nounits"], {
        stdout: "pipe",
        stderr: "ignore",
        timeout: 5000,
      })
      const line = r.stdout.toString().trim().split("\n")[0]
      const [name, mb] = line.split(",").map((s) => s.trim())
      if (r.exitCode === 0 && Number(mb) > 0) return { vram_mb: Number(mb), gpu: name }
    }
    if (existsSync("/sys/class/drm")) {
      for (const card of readdirSync("/sys/class/drm")) {
        const f = `/sys/class/drm/${card}/device/mem_info_vram_total`
        if (/^card\d+$/.test(card) && existsSync(f))
          return { vram_mb: Math.round(Number(readFileSync(f, "utf8")) / 2 ** 20), gpu: `amdgpu ${card}` }
      }
    }
  } catch {
    // No GPU tooling: a CPU worker.
  }
  return undefined
}

export function detectHardware(opts: { gpu: "auto" | "off" } = { gpu: "auto" }): Hardware {
  const hw: Hardware = {
    os: platform(),
    arch: arch(),
    cpu_threads: cpus().length,
    ram_mb: Math.round(totalmem() / 2 ** 20),
  }
  if (hw.os === "darwin" && hw.arch === "arm64") {
    // Unified memory: what Metal can use is the machine's RAM.
    return { ...hw, vram_mb: hw.ram_mb, gpu: "apple-silicon" }
  }
  const gpu = opts.gpu === "off" ? undefined : detectGpu()
  return gpu ? { ...hw, ...gpu } : hw
}
