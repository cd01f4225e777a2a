// Test support: the generated demo model and embedder, built once per checkout under
// test-artifacts/fixtures (deterministic from their seeds, so caching them changes nothing).
import { existsSync, mkdirSync, renameSync, rmSync } from "node:fs"
import { join } from "node:path"
import { writeTinyLlama } from "../fixtures/gguf.ts"
import { writeTinyEmbedder } from "../fixtures/embedder.ts"
import { ROOT } from "./proc.ts"

export const FIXTURES_DIR = join(ROOT, "test-artifacts", "fixtures")

async function once(target: string, make: (tmp: string) => Promise<void>) {
  if (existsSync(target)) return target
  mkdirSync(FIXTURES_DIR, { recursive: true })
  const tmp = `${target}.${process.pid}.tmp`
  rmSync(tmp, { recursive: true, force: true })
  await make(tmp)
  // Rename is atomic: parallel test files never see a half-written model.
  try {
    renameSync(tmp, target)
  } catch {
    rmSync(tmp, { recursive: true, force: true })
  }
  return target
}

export async function tinyLlamaPath(): Promise<string> {
  return once(join(FIXTURES_DIR, "tiny-llama.gguf"), (tmp) => writeTinyLlama(tmp, { seed: 42 }))
}

export async function tinyEmbedderDir(): Promise<string> {
  return once(join(FIXTURES_DIR, "tiny-embedder"), (tmp) => writeTinyEmbedder(tmp, { seed: 42 }))
}
