// Test-only entry for `cellule license …` while cmd/main.ts does not mount it: runs the command
// and reports errors the way cmd/main.ts does (error:/hint: on stderr, exit code 1).
import { runCommand } from "citty"
import { CelluleError, exitCodeOf } from "../../core/errors.ts"
import license from "../../cmd/license.ts"

try {
  await runCommand(license, { rawArgs: process.argv.slice(2) })
} catch (e) {
  if (e instanceof CelluleError) {
    console.error(`error: ${e.message}`)
    if (e.hint) console.error(`hint: ${e.hint}`)
  } else console.error(`error: ${(e as Error)?.stack ?? e}`)
  process.exit(exitCodeOf(e))
}
