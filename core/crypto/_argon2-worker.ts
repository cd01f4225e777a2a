// core/crypto/_argon2-worker — the Argon2id work itself, on a Bun Worker thread so that a burst of
// logins never stalls the event loop that serves the API. Pure computation: no I/O, no logging.
// Listed as a build entry point in package.json: a compiled binary only carries workers named there.
import { argon2id, argon2Verify } from "hash-wasm"

declare const self: Worker

export type Argon2Request =
  | { id: number; op: "hash"; password: string; salt: Uint8Array; params: Argon2Params }
  | { id: number; op: "verify"; password: string; hash: string }
export type Argon2Reply = { id: number; ok: true; value: string | boolean } | { id: number; ok: false; error: string }
export interface Argon2Params {
  memorySize: number
  iterations: number
  parallelism: number
  hashLength: number
}

self.onmessage = async (ev: MessageEvent<Argon2Request>) => {
  const req = ev.data
  try {
    const value =
      req.op === "hash"
        ? await argon2id({ password: req.password, salt: req.salt, ...req.params, outputType: "encoded" })
        : await argon2Verify({ password: req.password, hash: req.hash }).catch(() => false)
    self.postMessage({ id: req.id, ok: true, value } satisfies Argon2Reply)
  } catch (e) {
    self.postMessage({ id: req.id, ok: false, error: (e as Error).message } satisfies Argon2Reply)
  }
}
