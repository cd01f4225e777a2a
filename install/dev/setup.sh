#!/usr/bin/env bash
# Installs what `npm start` / `npm test` need on a fresh machine that has only Node 20 and npm.
# Idempotent: each step checks before it acts. `--test` adds the system packages the tests use.
set -euo pipefail
cd "$(dirname "$0")/../.."

stamp=node_modules/.cellule-setup
if [[ ! -f $stamp || package-lock.json -nt $stamp || ! -x node_modules/.bin/bun ]]; then
  echo "setup: installing npm dependencies" >&2
  # Scripts are skipped on purpose: onnxruntime-node's would fetch CUDA binaries from outside the
  # npm registry; node-llama-cpp ships prebuilt llama.cpp and needs no build step.
  # npm install, not npm ci: node-llama-cpp lists optional per-platform packages that the registry
  # mirror does not carry, and npm ci refuses a lock file without them.
  npm install --ignore-scripts --no-audit --no-fund --loglevel=error
  node node_modules/bun/install.js
  touch "$stamp"
fi
node_modules/.bin/bun --version >/dev/null

if [[ ${1:-} == --test ]]; then
  need=()
  [[ -x /usr/lib/postgresql/15/bin/postgres ]] || need+=(postgresql-15)
  command -v chromium >/dev/null || need+=(chromium)
  command -v shellcheck >/dev/null || need+=(shellcheck)
  command -v ip >/dev/null || need+=(iproute2)
  command -v curl >/dev/null || need+=(curl) # federation WAN test talks to pools inside network namespaces
  [[ -x /usr/sbin/nginx ]] || need+=(nginx-light) # install/nginx/cellule-entry.conf is checked with nginx -t
  command -v systemd-analyze >/dev/null || need+=(systemd)
  command -v faketime >/dev/null || need+=(faketime)    # doctor test: a pool whose clock runs ahead
  command -v python3 >/dev/null || need+=(python3-minimal) # zero-egress test: the raw-socket recorder
  command -v keepalived >/dev/null || need+=(keepalived)  # VIP failover test (admin guide §4.7)
  command -v pdfinfo >/dev/null || need+=(poppler-utils) # the documentation PDF is read back with pdfinfo, pdftotext, pdftoppm
  if ((${#need[@]})); then
    if [[ $(id -u) != 0 ]]; then
      echo "setup: the tests need these Debian packages: ${need[*]} (run as root, or install them)" >&2
      exit 1
    fi
    echo "setup: apt-get install ${need[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  fi
fi
