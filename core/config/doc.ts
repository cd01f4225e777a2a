// core/config/doc — renders the settings table for docs/configuration.md (kept in sync by a test).
import { SETTINGS } from "./settings.ts"
export { aliasTable } from "./aliases.ts"
import { aliasTable } from "./aliases.ts"

export function settingsTable(): string {
  const rows = SETTINGS.map((s) => {
    const def =
      s.docDefault ?? (Array.isArray(s.default) ? (s.default.length ? s.default.join(",") : "none") : String(s.default))
    const values = s.values ? ` One of: ${s.values.join(", ")}.` : ""
    return `| \`${s.env}\` | \`--${s.flag}\` | ${s.roles.join(", ")} | ${def} | ${s.doc}${values} |`
  })
  return ["| env var | flag | roles | default | meaning |", "| --- | --- | --- | --- | --- |", ...rows].join("\n")
}

if (import.meta.main) console.log(`${settingsTable()}\n\n${aliasTable()}`)
