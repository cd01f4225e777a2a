// Writes the demo model and embedder into the image (install/docker/Dockerfile, build stage): generated
// random weights, so answers are noise, but every byte goes through the real llama.cpp and
// transformers.js paths. Serve a real GGUF instead with `--model name=/models/file.gguf` (README).
import { join } from "node:path"
import { mkdirSync } from "node:fs"
import { writeTinyLlama } from "../../test/fixtures/gguf.ts"
import { writeTinyEmbedder } from "../../test/fixtures/embedder.ts"

const out = process.argv[2] ?? "/opt/cellule/demo"
mkdirSync(out, { recursive: true })
await writeTinyLlama(join(out, "demo-llama.gguf"), { seed: 42 })
await writeTinyEmbedder(join(out, "demo-embedder"), { seed: 42 })
console.log(`demo model and embedder written under ${out}`)
