// Right to erasure in the federation log: once a document (or its project) is erased, no pool's
// federation_log keeps its text, vectors or memories; the envelopes stay as ids and a hash, in order
// and signed, and anti-entropy hands a lagging pool those stubs, never the content.
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import type { Envelope } from "../../../core/federation/envelope.ts"
import { cleanupAll } from "../../support/proc.ts"
import { deliver, makeNodes, missing, pub, type Node } from "./_inproc.ts"

let a: Node, b: Node, c: Node
beforeAll(async () => {
  ;[a, b, c] = await makeNodes(3)
}, 240_000)
afterAll(cleanupAll)

const PID = "prj_erasure01"
const DOC = "doc_0123456789abcdef"
const HASH = "ab".repeat(32)
const vec = Array.from({ length: 384 }, (_, i) => (i === 0 ? 1 : 0))
const secret = (n: Node) => n.db.sql`select kind, seq from federation_log where payload::text like '%Dupont%'`

describe("erasure reaches the federation log", () => {
  test("a tombstone redacts earlier envelopes everywhere; a lagging pool gets stubs only; a forged stub is refused", async () => {
    await pub(a, "project", { id: PID, name: "Cabinet" })
    await pub(a, "document", {
      id: DOC,
      project_id: PID,
      title: "Contract Dupont",
      content_hash: HASH,
      mime: "text/plain",
      size_bytes: 10,
      pages: null,
      embedding_model: "tiny",
      chunks_total: 1,
    })
    await pub(a, "document_chunks", {
      document_id: DOC,
      project_id: PID,
      embedding_model: "tiny",
      chunks: [
        {
          idx: 0,
          text: "Dupont pays the rent.",
          char_start: 0,
          char_end: 21,
          page: null,
          token_count: 5,
          embedding: vec,
          embedded_by: "w",
        },
      ],
    })
    await pub(a, "memory_fact", { id: "mem_0123456789", project_id: PID, text: "Dupont is the tenant." })
    const original = (await missing(a, b)) as Envelope[]
    expect((await deliver(b, a, original)).applied).toBe(4)
    expect((await secret(b)).length).toBe(3)

    // Erased on B: B's log and, once delivered, A's keep no text, only stubs.
    await pub(b, "document_tombstone", {
      what: "document",
      project_id: PID,
      documents: [{ id: DOC, content_hash: HASH }],
    })
    expect((await deliver(a, b, await missing(b, a))).applied).toBe(1)
    for (const n of [a, b]) {
      const rows = await n.db.sql`select kind, payload, redacted_at from federation_log
                                  where kind in ('document', 'document_chunks') order by seq`
      expect(rows.length).toBe(2)
      for (const r of rows) {
        expect(r.redacted_at).not.toBeNull()
        expect(Object.keys(r.payload).sort()).toEqual(
          ["project_id", "redacted", "sha256", r.kind === "document" ? "id" : "document_id"].sort(),
        )
      }
      // The memory is not the document's: it stays until its project is erased.
      expect((await secret(n)).map((r) => r.kind)).toEqual(["memory_fact"])
    }

    // C was away: anti-entropy from A brings the stubs (marked redacted) and the tombstone, no content.
    const fromA = (await missing(a, c)) as Envelope[]
    expect(fromA.filter((e) => e.redacted).map((e) => e.kind)).toEqual(["document", "document_chunks"])
    expect(JSON.stringify(fromA.filter((e) => e.kind !== "memory_fact"))).not.toContain("Dupont")
    // A stub from no trusted peer (local tooling, or forged) is refused before anything is stored.
    const forged = await deliver(
      c,
      null,
      fromA.filter((e) => e.redacted),
    )
    expect(forged.refused.map((r) => r.reason)).toEqual(["signature_invalid", "signature_invalid"])
    expect((await c.db.sql`select 1 from federation_log`).length).toBe(0)
    const res = await deliver(c, a, fromA)
    expect(res.refused).toEqual([])
    expect((await c.db.sql`select 1 from documents where id = ${DOC}`).length).toBe(0)
    expect((await c.db.sql`select 1 from chunks where document_id = ${DOC}`).length).toBe(0)
    expect((await secret(c)).map((r) => r.kind)).toEqual(["memory_fact"])
    // A replay of the original envelopes (a peer that had not redacted yet) is a replay: nothing comes back.
    const again = await deliver(c, a, original)
    expect(again.applied + again.superseded).toBe(0)
    expect(again.refused.every((r) => r.reason === "replay")).toBe(true)

    // The project erased on C: its memories' text leaves every log too.
    await pub(c, "document_tombstone", { what: "project", project_id: PID, documents: [] })
    const fromC = await missing(c, a)
    await deliver(a, c, fromC)
    await deliver(b, c, await missing(c, b))
    for (const n of [a, b, c]) expect((await secret(n)).length).toBe(0)
    // Nothing but a redaction may change a logged row.
    await expect(a.db.sql`update federation_log set payload = '{}' where kind = 'project'`).rejects.toThrow(
      /append-only/,
    )
  }, 120_000)
})
