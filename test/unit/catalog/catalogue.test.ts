// The catalogue's GGUF checks and upload: a forged model's header is read (architecture, parameters,
// quantisation, context, template, behaviour); each malformed upload is refused with its code and leaves
// the store folder and the database as they were; the same content twice answers the existing entry;
// a file assigned to a class or a tier is not deleted.
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { readdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { classifyBehaviour, readGgufHeader } from "../../../core/catalog/gguf.ts"
import { assignTierModel, deleteModel, listCatalogue, uploadModel } from "../../../core/catalog/catalogue.ts"
import { assignClassModel } from "../../../core/catalog/store.ts"
import type { Database } from "../../../core/db/client.ts"
import { testDatabase } from "../../support/db.ts"
import { cleanupAll, tempDir } from "../../support/proc.ts"
import { forgedBytes, THINK_TEMPLATE } from "../../support/forged-gguf.ts"
import { tinyLlamaPath } from "../../support/fixtures.ts"

afterAll(cleanupAll)

async function* chunks(bytes: Uint8Array, size = 1000) {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size)
}

describe("GGUF header", () => {
  test("the tiny llama: architecture, parameters, F32, context, ChatML template → instruct", async () => {
    const h = readGgufHeader(await tinyLlamaPath())
    expect(h).toMatchObject({
      version: 3,
      architecture: "llama",
      name: "cellule-tiny-llama",
      quantization: "F32",
      context_length: 2048,
      chat_template: true,
      behaviour: "instruct",
    })
    expect(h.parameter_count).toBeGreaterThan(50_000)
  })

  test("a template that opens <think> is a thinking model; no template is a base model", () => {
    const dir = tempDir()
    writeFileSync(join(dir, "t.gguf"), forgedBytes({ template: THINK_TEMPLATE, name: "forged" }))
    writeFileSync(join(dir, "b.gguf"), forgedBytes({ template: null, name: "forged" }))
    const t = readGgufHeader(join(dir, "t.gguf"))
    expect(t.behaviour).toBe("thinking")
    expect(t.hints).toContain("template_think_tag")
    expect(t.quantization).toBe("Q4_K_M")
    expect(t.context_length).toBe(8192)
    expect(readGgufHeader(join(dir, "b.gguf")).behaviour).toBe("base")
  })

  test.each([
    ["Qwen3-4B-Instruct-2507-Q4_K_M.gguf", "instruct"],
    ["Qwen3-4B-Q4_K_M.gguf", "thinking"],
    ["QwQ-32B-Q4_K_M.gguf", "thinking"],
    ["DeepSeek-R1-Distill-Qwen-7B-Q4_K_M.gguf", "thinking"],
    ["Mistral-7B-Instruct-v0.3.Q4_K_M.gguf", "instruct"],
  ])("name hints: %s is %s", (name, behaviour) => {
    expect(classifyBehaviour(name, "{{ messages }}").behaviour).toBe(behaviour as never)
  })
})

describe("upload", () => {
  let db: Database
  let store: string
  const state = async () => ({
    files: readdirSync(store).sort(),
    rows: (await db.sql`select file_name, sha256 from model_files order by file_name`).map((r) => ({ ...r })),
  })
  beforeAll(async () => {
    db = await testDatabase()
    store = tempDir("cellule-store-")
  })
  const up = (name: string, bytes: Uint8Array | null) =>
    uploadModel(db.sql, store, name, bytes === null ? null : chunks(bytes), { maxBytes: 1 << 20, by: "a@b.c" })

  test("a valid model is stored with its hash and header", async () => {
    const bytes = forgedBytes({ name: "good" })
    const r = await up("good.gguf", bytes)
    expect(r.created).toBe(true)
    expect(r.entry.size).toBe(bytes.length)
    expect(r.entry.sha256).toBe(new Bun.CryptoHasher("sha256").update(bytes).digest("hex"))
    expect(r.entry.header?.architecture).toBe("llama")
    expect(readdirSync(store)).toEqual(["good.gguf"])
  })

  const good = forgedBytes({ name: "other", dataBytes: 8192 })
  test.each<[string, Uint8Array | null, string, RegExp]>([
    ["0 bytes", new Uint8Array(0), "gguf_invalid", /empty \(0 bytes\)/],
    ["no body", null, "gguf_invalid", /empty/],
    ["wrong magic", new TextEncoder().encode("PK\u0003\u0004 this is a zip"), "gguf_invalid", /not a GGUF file/],
    ["cut in the header", good.subarray(0, 40), "gguf_truncated", /inside the GGUF header/],
    [
      "cut in the tensor data",
      good.subarray(0, good.length - 100),
      "gguf_truncated",
      /truncated \(100 bytes missing\)/,
    ],
    ["too large", forgedBytes({ dataBytes: 2 << 20 }), "model_too_large", /upload limit/],
    ["a bad name", forgedBytes(), "model_file_name_invalid", /not a model file name/],
  ])("%s: refused with its code, nothing kept", async (what, bytes, code, message) => {
    const before = await state()
    const e = await up(what === "a bad name" ? "../x.gguf" : "bad.gguf", bytes).catch((e) => e)
    expect(e).toMatchObject({ code })
    expect(e.message).toMatch(message)
    expect(await state()).toEqual(before)
  })

  test("the same content under another name answers the existing entry, nothing kept", async () => {
    const before = await state()
    const r = await up("copy.gguf", forgedBytes({ name: "good" }))
    expect(r.created).toBe(false)
    expect(r.entry.file_name).toBe("good.gguf")
    expect(await state()).toEqual(before)
  })

  test("other content under an existing name → 409 model_file_exists", async () => {
    const before = await state()
    await expect(up("good.gguf", forgedBytes({ name: "different" }))).rejects.toMatchObject({
      code: "model_file_exists",
      status: 409,
    })
    expect(await state()).toEqual(before)
  })

  test("an assigned model is not deleted; the reason names the class and tier", async () => {
    await assignClassModel(db.sql, store, "cpu-mid", "good.gguf")
    await assignTierModel(db.sql, store, "fast", "good.gguf")
    const list = await listCatalogue(db.sql, store)
    expect(list[0].assignments).toEqual({ hardware_classes: ["cpu-mid"], tiers: ["fast"] })
    const e = await deleteModel(db.sql, store, "good.gguf").catch((e) => e)
    expect(e).toMatchObject({ code: "model_assigned", status: 409 })
    expect(e.message).toContain("hardware class cpu-mid, tier fast")
    await expect(assignTierModel(db.sql, store, "slow", "good.gguf")).rejects.toMatchObject({ code: "tier_invalid" })
  })

  test("an unassigned model is deleted: file and row", async () => {
    await up("spare.gguf", forgedBytes({ name: "spare" }))
    await deleteModel(db.sql, store, "spare.gguf")
    expect(readdirSync(store)).toEqual(["good.gguf"])
    await expect(deleteModel(db.sql, store, "spare.gguf")).rejects.toMatchObject({ code: "model_file_not_found" })
  })
})
