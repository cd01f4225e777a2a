// The documentation PDF's libraries (pdfkit, fontkit and their tables: ~12 MB of the idle pool's RSS,
// issue 21) are loaded on the first PDF download, not when the pool mounts its routes.
import { expect, test } from "bun:test"
import { join } from "node:path"
import { BUN, ROOT } from "../../support/proc.ts"

test("mounting the Documentation routes loads neither core/docs/pdf.ts nor pdfkit", () => {
  const script = `
    await import(${JSON.stringify(join(ROOT, "core/http/routes/pages/documentation.ts"))})
    console.log(JSON.stringify(Object.keys(require.cache).filter((m) => /pdfkit|fontkit|docs\\/pdf\\.ts/.test(m))))`
  const out = Bun.spawnSync([BUN, "-e", script], { stdout: "pipe", stderr: "pipe", cwd: ROOT })
  expect(out.stderr.toString()).toBe("")
  expect(JSON.parse(out.stdout.toString())).toEqual([])
})
