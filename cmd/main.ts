#!/usr/bin/env bun
// cellule — the single entry point. The only file that reads process.argv and calls process.exit.
// `--version` is answered before anything else is loaded (citty, the error classes, the commands):
// scripts and installers call it to compare versions, and it should cost no more than starting Bun.
import { VERSION } from "../core/version.ts"

const argv = process.argv.slice(2)
if (argv.length === 1 && (argv[0] === "--version" || argv[0] === "-v")) {
  console.log(VERSION)
  process.exit(0)
}
void import("./_cli.ts").then(({ run }) => run(argv).then((code) => process.exit(code)))
