// `cellule admin-reset-password`: from a pipe (automation) and under a pseudo-terminal, where the
// typed password must not be echoed. The new hash is checked by signing in against the database.
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { join } from "node:path"
import { writeFileSync } from "node:fs"
import { celluleCmd, cleanupAll, ROOT, spawnProc, tempDir } from "../support/proc.ts"
import { openDatabase } from "../../core/db/client.ts"
import { authenticate } from "../../core/auth/admins.ts"

afterAll(cleanupAll)

const EMAIL = "admin@reset.example"
let dataDir: string

beforeAll(async () => {
  dataDir = tempDir()
  const answers = join(tempDir(), "a.json")
  writeFileSync(
    answers,
    JSON.stringify({
      identity: { company: "Reset SA", sector: "OTHER" },
      topology: { sites: [{ name: "HQ" }] },
      admin: { email: EMAIL, password: "first-password-1" },
    }),
  )
  const p = spawnProc([...celluleCmd(), "setup", "--answers", answers, "--data-dir", dataDir])
  expect(await p.exited).toBe(0)
})

async function signsIn(password: string) {
  const db = await openDatabase({ dataDir })
  try {
    return !!(await authenticate(db.sql, EMAIL, password))
  } finally {
    await db.close()
  }
}

/** The audit rows of password resets, oldest first. */
async function resetRows() {
  const db = await openDatabase({ dataDir })
  try {
    return [
      ...(await db.sql<{ actor_kind: string; actor_id: string; target: string; outcome: string }[]>`
      select actor_kind, actor_id, target, outcome from audit_log where action = 'admin.password_reset' order by id`),
    ]
  } finally {
    await db.close()
  }
}

async function collect(stream: ReadableStream<Uint8Array>, sink: { text: string }) {
  const dec = new TextDecoder()
  for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>) sink.text += dec.decode(chunk)
}

describe("cellule admin-reset-password", () => {
  test("reads the password twice from piped stdin and prints OK", async () => {
    const p = Bun.spawn([...celluleCmd(), "admin-reset-password", `--email=${EMAIL}`, "--data-dir", dataDir], {
      cwd: ROOT,
      stdin: new Blob(["piped-password-22\npiped-password-22\n"]),
      stdout: "pipe",
      stderr: "pipe",
    })
    const out = await new Response(p.stdout).text()
    expect(await p.exited).toBe(0)
    expect(out.trim()).toBe(`OK: password reset for ${EMAIL}`)
    expect(await signsIn("piped-password-22")).toBe(true)
    expect(await signsIn("first-password-1")).toBe(false)
    // the reset is in the audit log, written in the same transaction as the new hash
    expect(await resetRows()).toEqual([
      { actor_kind: "system", actor_id: "admin-reset-password", target: `admin:${EMAIL}`, outcome: "success" },
    ])
  })

  test("two different answers or a short password change nothing", async () => {
    for (const input of ["one-password-123\nother-password-123\n", "short\nshort\n"]) {
      const p = Bun.spawn([...celluleCmd(), "admin-reset-password", `--email=${EMAIL}`, "--data-dir", dataDir], {
        cwd: ROOT,
        stdin: new Blob([input]),
        stdout: "pipe",
        stderr: "pipe",
      })
      expect(await p.exited).toBe(1)
    }
    expect(await signsIn("piped-password-22")).toBe(true)
    expect((await resetRows()).length).toBe(1)
  })

  test("under a pseudo-terminal it prompts twice and never echoes the password", async () => {
    const cmd = [...celluleCmd(), "admin-reset-password", `--email=${EMAIL}`, "--data-dir", dataDir]
      .map((a) => `'${a}'`)
      .join(" ")
    // script(1) gives the command a real pty; what the pty shows comes back on script's stdout.
    const p = Bun.spawn(["script", "-qec", cmd, "/dev/null"], {
      cwd: ROOT,
      stdin: "pipe",
      stdout: "pipe",
      stderr: "pipe",
      env: { ...process.env, LOG_LEVEL: "error" },
    })
    const screen = { text: "" }
    void collect(p.stdout, screen)
    const waitFor = async (s: string) => {
      const t0 = Date.now()
      while (!screen.text.includes(s)) {
        if (Date.now() - t0 > 60_000) throw new Error(`no "${s}" on the terminal:\n${screen.text}`)
        await Bun.sleep(20)
      }
    }
    await waitFor(`New password for ${EMAIL}:`)
    await Bun.sleep(200) // the prompt is written just before raw mode is set
    p.stdin.write("tty-password-3333\r")
    p.stdin.flush()
    await waitFor("Confirm password:")
    await Bun.sleep(200)
    p.stdin.write("tty-password-3333\r")
    p.stdin.flush()
    await waitFor(`OK: password reset for ${EMAIL}`)
    p.stdin.end()
    expect(await p.exited).toBe(0)
    expect(screen.text).not.toContain("tty-password")
    expect(await signsIn("tty-password-3333")).toBe(true)
  })
})
