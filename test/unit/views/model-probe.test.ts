// views/pages/model-probe: the guidance table and warnings, and a probe's status, flags and answers,
// in English and French; the accept button only while a flagged probe is not accepted.
import { expect, test } from "bun:test"
import type { ProbeResult } from "../../../core/catalog/probe.ts"
import { modelGuidanceSection, modelProbeSection } from "../../../views/pages/model-probe.ts"

const flagged: ProbeResult = {
  file_name: "think.gguf",
  sha256: "ab",
  model_id: "think",
  status: "flagged",
  worker_id: "w1",
  worker_name: "guinea-pig",
  flags: ["think_tags"],
  answers: [
    { id: "greeting", prompt: "Hello!", answer: "<think>hm</think>Hi", flags: ["think_tags"] },
    { id: "email", prompt: "Write…", answer: "", flags: ["empty_answer"] },
  ],
  error: null,
  started_at: "2026-01-01T00:00:00.000Z",
  finished_at: "2026-01-01T00:00:05.000Z",
  accepted_by: null,
  accepted_at: null,
  assignable: false,
}
const input = (probe: ProbeResult | null) => ({
  fileName: "think.gguf",
  probe,
  startAction: "/models/think.gguf/probe",
  acceptAction: "/models/think.gguf/probe/accept",
  csrf: "tok",
})

test("a flagged probe shows its flags, the escaped answers and the accept button (EN, FR)", () => {
  const en = String(modelProbeSection("en", input(flagged)))
  expect(en).toContain('data-status="flagged"')
  expect(en).toContain('data-flag="think_tags"')
  expect(en).toContain("&lt;think&gt;hm&lt;/think&gt;Hi")
  expect(en).not.toContain("<think>hm")
  expect(en).toContain('action="/models/think.gguf/probe/accept"')
  expect(en).toContain("Assignment to the fleet is blocked")
  const fr = String(modelProbeSection("fr", input(flagged)))
  expect(fr).toContain("balises &lt;think&gt;")
  expect(fr).toContain("Accepter ce modèle malgré tout")
})

test("accepted or passed: no accept button; never probed: only the start button", () => {
  const accepted = String(
    modelProbeSection(
      "en",
      input({ ...flagged, accepted_by: "a@b.c", accepted_at: "2026-01-02T00:00:00.000Z", assignable: true }),
    ),
  )
  expect(accepted).toContain("Accepted by a@b.c")
  expect(accepted).not.toContain("/probe/accept")
  const passed = String(modelProbeSection("en", input({ ...flagged, status: "passed", flags: [], assignable: true })))
  expect(passed).not.toContain("/probe/accept")
  const none = String(modelProbeSection("fr", input(null)))
  expect(none).toContain('data-status="none"')
  expect(none).toContain("Lancer le test")
})

test("the guidance section recommends per class and warns on thinking and base files", () => {
  const s = String(modelGuidanceSection("en", ["Qwen3-4B-Instruct-2507-Q4_K_M.gguf", "QwQ-32B.gguf", "x-base.gguf"]))
  expect(s).toContain("Qwen3-30B-A3B-Instruct-2507-Q4_K_M.gguf")
  expect(s).toContain('data-file="QwQ-32B.gguf" data-family="thinking"')
  expect(s).toContain('data-file="x-base.gguf" data-family="base"')
  expect(s).not.toContain('data-file="Qwen3-4B-Instruct')
})
