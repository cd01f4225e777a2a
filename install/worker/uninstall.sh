#!/usr/bin/env bash
# Cellule worker uninstaller, served by the pool at /v1/install/worker-uninstall.sh:
#   curl -fsSL __POOL_URL__/v1/install/worker-uninstall.sh | sudo bash
# Stops and removes the service, the binary, the config and the model cache. Logs are kept for
# audit. The worker's token stays listed in the dashboard: revoke it there.
set -euo pipefail
root=""
while (($#)); do
  case "$1" in
    --root) root="${2:-}"; shift 2 ;;
    *) echo "cellule uninstall: unknown option $1" >&2; exit 1 ;;
  esac
done
if [[ -z $root && $(id -u) != 0 ]]; then echo "cellule uninstall: run as root" >&2; exit 1; fi

if [[ $(uname -s) == Darwin ]]; then
  if [[ -z $root ]]; then launchctl bootout system/com.cellule.worker 2>/dev/null || true; fi
  rm -f "$root/Library/LaunchDaemons/com.cellule.worker.plist"
  rm -rf "$root/usr/local/opt/cellule" "$root/usr/local/etc/cellule" "$root/usr/local/var/lib/cellule"
else
  if [[ -z $root ]] && command -v systemctl >/dev/null; then
    systemctl disable --now cellule-worker.service 2>/dev/null || true
    rm -f /etc/systemd/system/cellule-worker.service
    systemctl daemon-reload
  fi
  pidfile="$root/var/lib/cellule/worker.pid"
  if [[ -f $pidfile ]]; then kill "$(cat "$pidfile")" 2>/dev/null || true; fi
  rm -rf "$root/opt/cellule" "$root/etc/cellule" "$root/var/lib/cellule"
fi
echo "cellule uninstall: removed (logs kept)" >&2
