// The shipped reference nginx entry (install/nginx/cellule-entry.conf) must stay valid nginx, and send
// the same paths sticky as `cellule proxy` (the one table in _sticky-paths.ts, run through real nginx).
import { expect, test } from "bun:test"
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { ROOT, spawnProc } from "../../support/proc.ts"
import { STICKY_PATHS } from "./_sticky-paths.ts"

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

test.skipIf(!existsSync(NGINX))(
  "nginx sends every browser path to the sticky pools and machine traffic least_conn",
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "cellule-nginx-route-"))
    // Two stand-in pools: the sticky group's and the least_conn group's, each answering its own name.
    const backends = (["sticky", "least"] as const).map((name) =>
      Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response(name) }),
    )
    try {
      const probe = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } })
      const port = probe.port
      probe.stop(true)
      const only = (group: string, backend: Bun.Server<unknown>) => (conf: string) =>
        conf.replace(
          new RegExp(`(upstream ${group} \\{[^}]*?)(( {8}server [^\\n]*\\n)+)`),
          (_m, head) => `${head}        server 127.0.0.1:${backend.port};\n`,
        )
      let conf = await Bun.file(join(ROOT, "install/nginx/cellule-entry.conf")).text()
      conf = only(
        "cellule_pools_sticky",
        backends[0],
      )(only("cellule_pools", backends[1])(conf))
        .replace("listen 18080;", `listen 127.0.0.1:${port};`)
        .replace("/var/log/nginx/access.log", join(dir, "access.log"))
        .replace(
          "http {",
          `http {\n    client_body_temp_path ${dir}/body;\n    proxy_temp_path ${dir}/proxy;\n    fastcgi_temp_path ${dir}/fastcgi;\n    uwsgi_temp_path ${dir}/uwsgi;\n    scgi_temp_path ${dir}/scgi;`,
        )
      expect(conf).toContain(`server 127.0.0.1:${backends[0].port};`)
      expect(conf).toContain(`server 127.0.0.1:${backends[1].port};`)
      writeFileSync(join(dir, "nginx.conf"), conf)
      const nginx = spawnProc([
        NGINX,
        "-p",
        dir,
        "-c",
        join(dir, "nginx.conf"),
        "-e",
        join(dir, "error.log"),
        "-g",
        `pid ${dir}/nginx.pid; daemon off;`,
      ])
      try {
        const url = `http://127.0.0.1:${port}`
        for (
          let i = 0;
          i < 100 &&
          !(await fetch(`${url}/v1/status`).then(
            () => true,
            () => false,
          ));
          i++
        )
          await Bun.sleep(50)
        const got: [string, boolean][] = []
        for (const [path] of STICKY_PATHS) got.push([path, (await (await fetch(url + path)).text()) === "sticky"])
        expect(got).toEqual(STICKY_PATHS.map(([p, sticky]) => [p, sticky]))
      } finally {
        await nginx.kill()
      }
    } finally {
      for (const b of backends) b.stop(true)
      rmSync(dir, { recursive: true, force: true })
    }
  },
)
