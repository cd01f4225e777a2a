// core/crypto/hash — content hashes of files: model files in the store and on workers, release binaries.

/** SHA-256 (hex) of a file, streamed so a multi-gigabyte GGUF never sits in memory. */
export async function sha256File(path: string): Promise<string> {
  const h = new Bun.CryptoHasher("sha256")
  for await (const chunk of Bun.file(path).stream() as unknown as AsyncIterable<Uint8Array>) h.update(chunk)
  return h.digest("hex")
}
