#!/usr/bin/env bash
# Checks what install/release/build-all.sh produced: every target exists with a matching .sha256, the
# linux-x64 binary answers --version with this checkout's version, and so does linux-arm64 under
# qemu-user when qemu-aarch64-static and the arm64 C library (libc6-arm64-cross) are installed.
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=dist/release
want=$(node_modules/.bin/bun -e 'import { VERSION } from "./core/version.ts"; console.log(VERSION)')
fail=0
for name in cellule-linux-x64 cellule-linux-arm64 cellule-macos-arm64 cellule-macos-x64 cellule-windows-x64.exe; do
  if [[ -s $OUT/$name ]] && (cd "$OUT" && sha256sum -c --quiet "$name.sha256"); then
    echo "ok   $name ($(stat -c %s "$OUT/$name") bytes, $(file -b "$OUT/$name" | cut -d, -f1-2))"
  else
    echo "FAIL $name missing or its .sha256 does not match"
    fail=1
  fi
done
got=$("$OUT/cellule-linux-x64" --version)
if [[ $got == "$want" ]]; then echo "ok   cellule-linux-x64 --version: $got"
else echo "FAIL linux-x64 --version: '$got' (want $want)"; fail=1; fi
if command -v qemu-aarch64-static >/dev/null && [[ -e /usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1 ]]; then
  got=$(qemu-aarch64-static -L /usr/aarch64-linux-gnu "$OUT/cellule-linux-arm64" --version)
  if [[ $got == "$want" ]]; then echo "ok   cellule-linux-arm64 --version under qemu: $got"
  else echo "FAIL linux-arm64 --version under qemu: '$got'"; fail=1; fi
else
  echo "skip cellule-linux-arm64 --version: needs qemu-user-static and libc6-arm64-cross"
fi
echo "not run here: macos-arm64, macos-x64, windows-x64 (no such machine or emulator)"
exit $fail
