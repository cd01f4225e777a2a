#!/usr/bin/env bash
# Cellule worker installer, served (templated with its own URL) by the pool at /v1/install/worker.sh:
#   curl -fsSL __POOL_URL__/v1/install/worker.sh | sudo bash -s -- --code CODE
# Installs the cellule binary from the pool (no Internet), redeems the single-use provisioning code
# for this machine's own worker token, writes the config and installs + starts the service
# (systemd on Linux, launchd on macOS). Safe to re-run with a new code.
#
# Options:
#   --code CODE     single-use provisioning code from the dashboard (Workers → Add a worker)
#   --name NAME     worker name shown in the dashboard (default: host name)
#   --root DIR      install under DIR instead of / (staging images, tests); implies --no-service
#   --no-service    do not install a service; start the worker in the background now
#   --pool URL      pool URL (default: the pool that served this script)
set -euo pipefail

pool_url="__POOL_URL__"
code=""
name="$(hostname 2>/dev/null || echo worker)"
root=""
service=1

die() { echo "cellule install: $*" >&2; exit 1; }
say() { echo "cellule install: $*" >&2; }

while (($#)); do
  case "$1" in
    --code) code="${2:-}"; shift 2 ;;
    --name) name="${2:-}"; shift 2 ;;
    --root) root="${2:-}"; service=0; shift 2 ;;
    --no-service) service=0; shift ;;
    --pool) pool_url="${2:-}"; shift 2 ;;
    -h|--help) sed -n '2,16p' "$0" 2>/dev/null || true; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done

[[ -n $code ]] || die "--code is required: generate one on the pool dashboard (Workers → Add a worker)"
[[ $code =~ ^[A-Za-z0-9_-]+$ ]] || die "the provisioning code has unexpected characters"
[[ $name =~ ^[A-Za-z0-9._-]+$ ]] || name="worker"
if [[ -z $root && $(id -u) != 0 ]]; then die "run as root (… | sudo bash -s -- --code CODE)"; fi
command -v curl >/dev/null || die "curl is required"

case "$(uname -s)" in
  Linux) os=linux ;;
  Darwin) os=macos ;;
  *) die "unsupported system $(uname -s); on Windows use worker.ps1" ;;
esac
case "$(uname -m)" in
  x86_64|amd64) arch=x64 ;;
  aarch64|arm64) arch=arm64 ;;
  *) die "unsupported processor $(uname -m)" ;;
esac
if [[ $os == macos && $arch != arm64 ]]; then die "Intel Macs are not supported (Apple Silicon only)"; fi

if [[ $os == linux ]]; then
  bin_dir="$root/opt/cellule/bin"
  conf_dir="$root/etc/cellule"
  data_dir="$root/var/lib/cellule"
  log_file="$data_dir/worker.log"
else
  bin_dir="$root/usr/local/opt/cellule/bin"
  conf_dir="$root/usr/local/etc/cellule"
  data_dir="$root/usr/local/var/lib/cellule"
  log_file="$root/Library/Logs/cellule-worker.log"
fi
bin="$bin_dir/cellule"
conf="$conf_dir/worker.json"

sha256_of() {
  if command -v sha256sum >/dev/null; then sha256sum "$1" | cut -d' ' -f1; else shasum -a 256 "$1" | cut -d' ' -f1; fi
}

say "installing the cellule worker from $pool_url ($os-$arch)"
mkdir -p "$bin_dir" "$conf_dir" "$data_dir" "$(dirname "$log_file")"
tmp="$(mktemp "$bin_dir/.cellule.XXXXXX")"
trap 'rm -f "$tmp" "$conf.tmp"' EXIT
curl -fsS --retry 3 -o "$tmp" "$pool_url/v1/install/bin/cellule-$os-$arch" || die "could not download the binary from the pool"
want="$(curl -fsS --retry 3 "$pool_url/v1/install/bin/cellule-$os-$arch.sha256" | cut -d' ' -f1)"
got="$(sha256_of "$tmp")"
[[ -n $want && $want == "$got" ]] || die "the downloaded binary does not match the pool's SHA-256 ($got != $want)"
chmod 0755 "$tmp"
mv -f "$tmp" "$bin"

say "redeeming the provisioning code"
umask 077
status="$(curl -sS -o "$conf.tmp" -w '%{http_code}' -X POST -H 'content-type: application/json' \
  --data "{\"code\":\"$code\",\"name\":\"$name\"}" "$pool_url/v1/provisioning/redeem")" || die "could not reach the pool"
if [[ $status != 200 ]]; then
  die "the pool refused the code (HTTP $status): $(cat "$conf.tmp" 2>/dev/null)"
fi
mv -f "$conf.tmp" "$conf"
umask 022

if ((service == 0)); then
  say "starting the worker without a service manager (log: $log_file)"
  nohup "$bin" worker --auto --config "$conf" --data-dir "$data_dir" >>"$log_file" 2>&1 </dev/null &
  echo $! >"$data_dir/worker.pid"
  say "worker started (pid $(cat "$data_dir/worker.pid"))"
  exit 0
fi

if [[ $os == linux ]]; then
  command -v systemctl >/dev/null || die "systemd is required (or use --no-service)"
  if ! id cellule >/dev/null 2>&1; then
    useradd --system --home-dir /var/lib/cellule --shell /usr/sbin/nologin cellule
  fi
  chown -R cellule:cellule "$data_dir"
  # The worker replaces its own binary on self-update: the service user owns its bin folder.
  chown -R cellule:cellule "$bin_dir"
  chown root:cellule "$conf"
  chmod 0640 "$conf"
  cat >/etc/systemd/system/cellule-worker.service <<'CELLULE_UNIT_EOF'
__SYSTEMD_UNIT__
CELLULE_UNIT_EOF
  systemctl daemon-reload
  systemctl enable --now cellule-worker.service
  systemctl restart cellule-worker.service
  say "done: systemctl status cellule-worker · journalctl -u cellule-worker -f"
else
  plist=/Library/LaunchDaemons/com.cellule.worker.plist
  launchctl bootout system/com.cellule.worker 2>/dev/null || true
  cat >"$plist" <<'CELLULE_PLIST_EOF'
__LAUNCHD_PLIST__
CELLULE_PLIST_EOF
  chown root:wheel "$plist"
  chmod 0644 "$plist"
  launchctl bootstrap system "$plist"
  say "done: sudo launchctl print system/com.cellule.worker · tail -f /Library/Logs/cellule-worker.log"
fi
