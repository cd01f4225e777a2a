// The shipped reference nginx entry (install/nginx/cellule-entry.conf) must stay valid nginx.
import { expect, test } from "bun:test"
import { existsSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { ROOT } from "../../support/proc.ts"

const NGINX = "/usr/sbin/nginx"

test.skipIf(!existsSync(NGINX))("install/nginx/cellule-entry.conf passes nginx -t", async () => {
  const dir = mkdtempSync(join(tmpdir(), "cellule-nginx-t-"))
  try {
    const p = Bun.spawn(
      [
        NGINX,
        "-t",
        "-p",
        dir,
        "-c",
        join(ROOT, "install/nginx/cellule-entry.conf"),
        "-e",
        join(dir, "error.log"),
        "-g",
        `pid ${dir}/nginx.pid;`,
      ],
      { stdout: "pipe", stderr: "pipe" },
    )
    const err = await new Response(p.stderr).text()
    expect(await p.exited, err).toBe(0)
    expect(err).toContain("test is successful")
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test("the reference entry keeps the guide's settings (§3)", async () => {
  const conf = await Bun.file(join(ROOT, "install/nginx/cellule-entry.conf")).text()
  for (const line of [
    "least_conn;",
    "max_fails=3 fail_timeout=30s",
    "proxy_read_timeout 300s;",
    "proxy_buffering off;",
    "proxy_next_upstream error timeout;",
    "hash $remote_addr consistent;",
    "listen 18080;",
    "''      close;",
  ])
    expect(conf).toContain(line)
})
