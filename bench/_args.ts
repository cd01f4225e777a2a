// bench/_args — `--name value` flags for the benchmarks (no parser needed for a handful of numbers).
export function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`)
  return i > 0 ? process.argv[i + 1] : def
}
