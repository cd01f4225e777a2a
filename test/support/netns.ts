// Test support for tests that stand network namespaces in for hosts (`ip netns`, as root): a command
// runner, fetch from inside a namespace (the test process lives in the root namespace), and removal.

/** Runs a command; throws with its output unless `allowFail`. */
export function sh(cmd: string[], allowFail = false): { ok: boolean; out: string } {
  const r = Bun.spawnSync(cmd, { stdout: "pipe", stderr: "pipe" })
  const out = r.stdout.toString() + r.stderr.toString()
  if (!r.success && !allowFail) throw new Error(`${cmd.join(" ")} failed: ${out}`)
  return { ok: r.success, out }
}

/** fetch, run from inside namespace `ns` through curl (status and body only). */
export function nsFetch(ns: string): typeof fetch {
  return (async (url: string, init: RequestInit = {}) => {
    const args = [
      "ip",
      "netns",
      "exec",
      ns,
      "curl",
      "-sS",
      "-m",
      "15",
      "-X",
      init.method ?? "GET",
      "-w",
      "\n%{http_code}",
    ]
    for (const [k, v] of Object.entries((init.headers ?? {}) as Record<string, string>)) args.push("-H", `${k}: ${v}`)
    if (init.body !== undefined && init.body !== null) args.push("--data-binary", String(init.body))
    args.push(url)
    const p = Bun.spawn(args, { stdout: "pipe", stderr: "pipe" })
    const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited])
    if (code !== 0) throw new Error(`curl in ${ns} ${url}: ${err.trim()}`)
    const i = out.lastIndexOf("\n")
    return new Response(out.slice(0, i), { status: Number(out.slice(i + 1)) })
  }) as unknown as typeof fetch
}

/** Deletes the namespaces (those already gone are fine). */
export function removeNamespaces(names: Iterable<string>) {
  for (const ns of names) sh(["ip", "netns", "del", ns], true)
}
