// The container files, checked statically (there is no Docker engine on the CI machine): the compose
// files parse and follow the compose-spec rules that matter, every Cellule service's command line uses
// real `cellule` subcommands and flags (read from the CLI's own --help), every environment variable is a
// setting or a guide alias, and the Dockerfile runs non-root with a health check and one data volume.
import { describe, expect, test } from "bun:test"
import { existsSync, readFileSync, rmSync, statSync } from "node:fs"
import { dirname, join, resolve } from "node:path"
import { knownVariables } from "../../../core/config/aliases.ts"
import { BUN, ROOT } from "../../support/proc.ts"

type Service = Record<string, any>
type Compose = { name?: string; services: Record<string, Service>; volumes?: Record<string, unknown> }

const COMPOSE = {
  quickstart: join(ROOT, "install/compose/quickstart/compose.yaml"),
  cabinet: join(ROOT, "install/compose/cabinet/compose.yaml"),
}
const load = (file: string) => Bun.YAML.parse(readFileSync(file, "utf8")) as Compose

/** The flags `cellule <sub> --help` lists (the real CLI, through bun), or null for an unknown subcommand. */
const helpCache = new Map<string, Set<string> | null>()
function cliFlags(sub: string): Set<string> | null {
  if (helpCache.has(sub)) return helpCache.get(sub)!
  const out = Bun.spawnSync([BUN, join(ROOT, "cmd/main.ts"), sub, "--help"], { stdout: "pipe", stderr: "pipe" })
  // biome-ignore lint/suspicious/noControlCharactersInRegex: strips the help's ANSI colours
  const text = out.stdout.toString().replace(/\x1b\[[0-9;]*m/g, "")
  const usage = text.match(/USAGE\s+cellule (\S+)/)
  const flags = usage?.[1] === sub ? new Set([...text.matchAll(/^\s+--([a-z0-9-]+)/gm)].map((m) => m[1]!)) : null
  helpCache.set(sub, flags)
  return flags
}

const isCellule = (s: Service) => s.image === "cellule:latest"
const commandOf = (s: Service): string[] => (Array.isArray(s.command) ? s.command.map(String) : [])
const PORT = /^(\d{1,3}(\.\d{1,3}){3}:)?(\d+)(:(\d+))?(\/(tcp|udp))?$/
const INTERPOLATION = /\$\{([A-Z_][A-Z0-9_]*)(:?[-?][^}]*)?\}/g

function checkCompose(file: string): Compose {
  const c = load(file)
  const dir = dirname(file)
  for (const key of Object.keys(c))
    expect(
      ["name", "services", "volumes", "networks", "secrets", "configs"].includes(key) || key.startsWith("x-"),
    ).toBe(true)
  expect(c.name).toMatch(/^[a-z0-9][a-z0-9_-]*$/)
  const declared = new Set(Object.keys(c.volumes ?? {}))
  const used = new Set<string>()
  for (const [name, s] of Object.entries(c.services)) {
    const where = `${file}: service ${name}`
    expect(name).toMatch(/^[a-zA-Z0-9._-]+$/)
    expect(s.image || s.build, `${where} has image or build`).toBeTruthy()
    if (s.build) {
      const ctx = resolve(dir, s.build.context ?? ".")
      expect(statSync(ctx).isDirectory(), `${where}: build context ${ctx}`).toBe(true)
      if (!s.build.dockerfile_inline) expect(existsSync(join(ctx, s.build.dockerfile ?? "Dockerfile"))).toBe(true)
    }
    expect(s.healthcheck, `${where} has a healthcheck`).toBeDefined()
    expect(["CMD", "CMD-SHELL"]).toContain(s.healthcheck.test[0])
    for (const d of Object.keys(Array.isArray(s.depends_on) ? {} : (s.depends_on ?? {}))) {
      expect(c.services[d], `${where} depends on ${d}`).toBeDefined()
      expect(["service_started", "service_healthy", "service_completed_successfully"]).toContain(
        s.depends_on[d].condition,
      )
    }
    for (const p of s.ports ?? []) {
      const m = String(p).match(PORT)
      expect(m, `${where}: port ${p}`).not.toBeNull()
      for (const n of [m![3], m![5]]) if (n) expect(Number(n)).toBeWithin(1, 65536)
    }
    for (const v of s.volumes ?? []) {
      const [src, dst] = String(v).split(":")
      expect(dst, `${where}: volume ${v} has a target`).toMatch(/^\//)
      if (src!.startsWith(".") || src!.startsWith("/"))
        expect(existsSync(resolve(dir, src!)), `${where}: ${src}`).toBe(true)
      else {
        expect(declared.has(src!), `${where}: volume ${src} is declared`).toBe(true)
        used.add(src!)
      }
    }
    // Environment: a Cellule service only takes settings and guide aliases; a typo here would pass silently.
    const env = s.environment ?? {}
    expect(Array.isArray(env)).toBe(false)
    if (isCellule(s)) for (const k of Object.keys(env)) expect(knownVariables(), `${where}: ${k}`).toContain(k)
    for (const value of Object.values(env))
      for (const m of String(value).matchAll(INTERPOLATION)) expect(m[1]).toBeTruthy()
    if (isCellule(s)) {
      const cmd = commandOf(s)
      const flags = cliFlags(cmd[0]!)
      expect(flags, `${where}: "cellule ${cmd[0]}" is a real subcommand`).not.toBeNull()
      for (const arg of cmd.slice(1))
        if (arg.startsWith("--"))
          expect(flags, `${where}: cellule ${cmd[0]} ${arg}`).toContain(arg.slice(2).split("=")[0]!)
    }
  }
  for (const v of declared) expect(used.has(v), `${file}: volume ${v} is used`).toBe(true)
  return c
}

const flagValue = (cmd: string[], flag: string) => cmd[cmd.indexOf(flag) + 1]

describe("compose files", () => {
  test("quickstart: one pool on the embedded database + one worker serving the image's demo model", () => {
    const c = checkCompose(COMPOSE.quickstart)
    const pools = Object.values(c.services).filter((s) => commandOf(s)[0] === "pool")
    const workers = Object.values(c.services).filter((s) => commandOf(s)[0] === "worker")
    expect(pools).toHaveLength(1)
    expect(workers).toHaveLength(1)
    expect(pools[0]!.environment.DATABASE_URL).toBeUndefined()
    const w = commandOf(workers[0]!)
    expect(flagValue(w, "--pool")).toBe("http://pool:8080")
    expect(flagValue(w, "--model")).toBe("demo=/opt/cellule/demo/demo-llama.gguf")
    // The pool's token and the worker's are the same variable.
    expect(workers[0]!.environment.CELLULE_TOKEN).toBe(pools[0]!.environment.CELLULE_WORKER_TOKEN)
    // §1.4's volumes.
    for (const v of ["iamine-pg", "iamine-uploads", "iamine-embedder-cache"])
      expect(Object.keys(c.volumes!)).toContain(v)
  })

  test("cabinet: 3 pools on a pgvector PostgreSQL, a `cellule proxy` entry, optional vip profile", () => {
    const c = checkCompose(COMPOSE.cabinet)
    const s = c.services
    const pools = Object.entries(s).filter(([, v]) => commandOf(v)[0] === "pool")
    expect(pools.map(([n]) => n).sort()).toEqual(["pool-a", "pool-b", "pool-c"])
    expect(s.pg!.image).toBe("pgvector/pgvector:pg16")
    // P6: one database per pool, never shared.
    const dbs = pools.map(([, p]) => String(p.environment.DATABASE_URL).replace(/.*\//, ""))
    expect(new Set(dbs).size).toBe(3)
    const initSql = readFileSync(join(dirname(COMPOSE.cabinet), "initdb/10-cellule-pools.sql"), "utf8")
    for (const db of dbs.filter((d) => d !== s.pg!.environment.POSTGRES_DB))
      expect(initSql).toContain(`create database ${db};`)
    // P1: each pool advertises a LAN URL, not a Docker-internal name; each pool its own state volume.
    for (const [, p] of pools) expect(String(p.environment.POOL_URL)).toContain("${CABINET_HOST")
    expect(new Set(pools.map(([, p]) => String(p.volumes[0]).split(":")[0])).size).toBe(3)
    const entry = commandOf(s.entry!)
    expect(entry[0]).toBe("proxy")
    expect(flagValue(entry, "--upstream")!.split(",")).toEqual([
      "http://pool-a:8080",
      "http://pool-b:8080",
      "http://pool-c:8080",
    ])
    expect(s.entry!.ports).toEqual(["18080:18080"])
    expect(s.vip!.profiles).toEqual(["vip"])
    expect(s.vip!.network_mode).toBe("host")
    for (const v of ["iamine-pg", "iamine-uploads-a", "iamine-embedder-cache"])
      expect(Object.keys(c.volumes!)).toContain(v)
    // Every required ${VAR:?…} has a line in .env.example.
    const example = readFileSync(join(dirname(COMPOSE.cabinet), ".env.example"), "utf8")
    for (const m of readFileSync(COMPOSE.cabinet, "utf8").matchAll(INTERPOLATION))
      expect(example, `.env.example names ${m[1]}`).toMatch(new RegExp(`^${m[1]}=`, "m"))
  })

  test("the checker refuses what it should: an unknown flag, subcommand or variable", () => {
    expect(cliFlags("proxy")).toContain("upstream")
    expect(cliFlags("proxy")).not.toContain("upstreams")
    expect(cliFlags("pool")).toContain("port")
    expect(cliFlags("no-such-command")).toBeNull()
    expect(knownVariables()).toContain("IAMINE_FED")
    expect(knownVariables()).not.toContain("IAMINE_FEDD")
    expect("18080:18080").toMatch(PORT)
    expect("18080:http").not.toMatch(PORT)
  })
})

/** Dockerfile instructions, continuation lines joined, comments dropped; `stage` counts FROM lines. */
function instructions(text: string) {
  const out: { op: string; args: string; stage: number }[] = []
  let stage = -1
  for (const line of text.replace(/\\\n/g, " ").split("\n")) {
    const t = line.trim()
    if (!t || t.startsWith("#")) continue
    const [op, ...rest] = t.split(/\s+/)
    if (op!.toUpperCase() === "FROM") stage++
    out.push({ op: op!.toUpperCase(), args: rest.join(" "), stage })
  }
  return out
}

describe("Dockerfile", () => {
  const text = readFileSync(join(ROOT, "install/docker/Dockerfile"), "utf8")
  const ins = instructions(text)
  const last = Math.max(...ins.map((i) => i.stage))
  const final = ins.filter((i) => i.stage === last)

  test("multi-stage: built with bun, run on Debian slim", () => {
    expect(last).toBeGreaterThanOrEqual(1)
    expect(final[0]!.args).toMatch(/^(debian:\S+-slim|gcr\.io\/distroless\/cc\S*)$/)
    expect(ins.some((i) => i.stage < last && i.op === "RUN" && i.args.includes("bun run build"))).toBe(true)
  })

  test("non-root user, health check on /v1/status, one data volume", () => {
    const user = final.filter((i) => i.op === "USER").at(-1)
    expect(user).toBeDefined()
    expect(user!.args.split(":")[0]).not.toMatch(/^(root|0)$/)
    const hc = final.find((i) => i.op === "HEALTHCHECK")
    expect(hc?.args).toContain("/v1/status")
    const volumes = final.filter((i) => i.op === "VOLUME")
    expect(volumes).toHaveLength(1)
    expect(volumes[0]!.args).toContain("/var/lib/cellule")
    expect(final.some((i) => i.op === "ENV" && i.args.includes("CELLULE_DATA_DIR=/var/lib/cellule"))).toBe(true)
    expect(final.find((i) => i.op === "ENTRYPOINT")?.args).toContain("cellule")
  })

  test("COPY sources exist, are not excluded by .dockerignore, and stage outputs are built", () => {
    const ignore = readFileSync(join(ROOT, ".dockerignore"), "utf8")
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith("#"))
    for (const c of ins.filter((i) => i.op === "COPY")) {
      const parts = c.args.split(/\s+/)
      const from = parts.find((p) => p.startsWith("--from="))
      const srcs = parts.filter((p) => !p.startsWith("--")).slice(0, -1)
      if (from) {
        // The build stage writes what the final stage copies.
        const build = ins
          .filter((i) => i.stage < last && i.op === "RUN")
          .map((i) => i.args)
          .join(" ")
        for (const src of srcs)
          if (src.endsWith("dist/cellule")) {
            expect(build).toContain("bun run build")
            const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"))
            expect(pkg.scripts.build).toContain("--outfile dist/cellule")
          } else expect(build).toContain(src)
        continue
      }
      for (const src of srcs) {
        expect(existsSync(join(ROOT, src)), `COPY ${src}`).toBe(true)
        expect(ignore, `${src} is not ignored`).not.toContain(src)
      }
    }
    // What the build needs from the context is not ignored.
    for (const needed of ["cmd", "core", "views", "sql", "test", "install", "package.json"])
      expect(ignore.some((l) => l === needed || l === `${needed}/`)).toBe(false)
    expect(ignore).toContain("node_modules")
  })

  test("the demo model the compose files serve is the one the image carries", async () => {
    expect(text).toContain("install/docker/demo-model.ts /out/demo")
    expect(text).toContain("COPY --from=build /out/demo /opt/cellule/demo")
    const out = join(ROOT, "test-artifacts", `demo-model-${process.pid}`)
    const run = Bun.spawnSync([BUN, join(ROOT, "install/docker/demo-model.ts"), out], { stderr: "pipe" })
    expect(run.exitCode).toBe(0)
    expect(existsSync(join(out, "demo-llama.gguf"))).toBe(true)
    expect(existsSync(join(out, "demo-embedder", "onnx", "model.onnx"))).toBe(true)
    rmSync(out, { recursive: true, force: true })
  })
})
