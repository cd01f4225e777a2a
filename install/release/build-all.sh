#!/usr/bin/env bash
# Builds the cellule binary for every OS the workers run, with `bun build --compile --target`:
#   dist/release/cellule-linux-x64, cellule-linux-arm64, cellule-macos-arm64, cellule-macos-x64,
#   cellule-windows-x64.exe  (+ .sha256 each)
# Bun fetches each target's runtime from the npm registry (@oven/bun-<os>-<arch>) on first use.
# Point a pool at the folder to serve them to installers: CELLULE_WORKER_BINARIES=dist/release
# (GET /v1/install/bin/cellule-<os>-<arch>[.exe]). docs/release.md explains the llama.cpp part.
# Usage: install/release/build-all.sh [target...]   (default: all five)
set -euo pipefail
cd "$(dirname "$0")/../.."
BUN=node_modules/.bin/bun
OUT=dist/release
mkdir -p "$OUT"

declare -A NAME=(
  [bun-linux-x64]=cellule-linux-x64
  [bun-linux-arm64]=cellule-linux-arm64
  [bun-darwin-arm64]=cellule-macos-arm64
  [bun-darwin-x64]=cellule-macos-x64
  [bun-windows-x64]=cellule-windows-x64.exe
)
targets=("$@")
((${#targets[@]})) || targets=(bun-linux-x64 bun-linux-arm64 bun-darwin-arm64 bun-darwin-x64 bun-windows-x64)

# The pristine data directory a pool unpacks at first boot (core/db/_pristine.ts): WASM, the same for all.
"$BUN" install/release/pgdata.ts dist/pgdata.tar.zst
# The compressed native and database bundles the binary embeds (core/pack.ts), as `npm run build`'s prebuild.
"$BUN" install/build/packs.ts

status=0
for t in "${targets[@]}"; do
  name=${NAME[$t]:-}
  [[ -n $name ]] || { echo "unknown target $t (one of: ${!NAME[*]})" >&2; exit 2; }
  echo "== $t -> $OUT/$name"
  # Same flags as `npm run build`; the llama.cpp platform packages stay external (core/inference/_native.ts).
  if ! "$BUN" build --compile --target "$t" --minify-syntax --minify-whitespace --bytecode --bytecode-depth=1 --format=esm --splitting \
    --external sharp --external '@node-llama-cpp/*' \
    cmd/main.ts core/crypto/_argon2-worker.ts dist/pgdata.tar.zst --outfile "$OUT/$name"; then
    echo "!! $t: build FAILED" >&2
    status=1
    continue
  fi
  (cd "$OUT" && sha256sum "$name" >"$name.sha256")
  # llama.cpp: the binary embeds the linux-x64 CPU build only (the llama-linux-x64 pack of
  # install/build/packs.ts). Say plainly what each other target lacks.
  case $t in
  bun-linux-x64) echo "   llama.cpp: linux-x64 CPU build embedded (from node_modules/@node-llama-cpp/linux-x64)" ;;
  *)
    plat=${t#bun-}
    plat=${plat/darwin/mac}
    [[ $plat == windows-x64 ]] && plat=win-x64
    if [[ -d node_modules/@node-llama-cpp/$plat ]]; then have="is installed here but not embedded"
    else have="cannot be obtained here (not installed: npm only installs the host's platform package)"; fi
    echo "   llama.cpp: NOT embedded in $name: @node-llama-cpp/$plat $have."
    echo "   As a worker this binary cannot load GGUF models (pool, proxy, doctor, backup do not need llama.cpp). See docs/release.md."
    ;;
  esac
done
ls -l "$OUT"
exit $status
