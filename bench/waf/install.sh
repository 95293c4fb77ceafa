#!/usr/bin/env bash
# Installs what bench/waf/run.ts needs from Debian's packages: wrk (load generator), nginx (origin
# and a peer), libnginx-mod-http-modsecurity (nginx's ModSecurity connector; it brings
# libmodsecurity3), taskset (util-linux). Installs only what is missing; runs `apt-get update` at
# most once. Without root (or with --check) it prints what is missing and how to install it, and
# exits 1. The Core Rule Set is not installed from Debian (bookworm ships CRS 3.3): the bench reads
# CRS v4 from ../shared/crs (or --crs DIR) for both engines.
set -euo pipefail

check_only=0
[[ "${1:-}" == "--check" ]] && check_only=1

# The connector module nginx loads with `load_module` (where Debian's package puts it).
MODSEC_MODULE=/usr/lib/nginx/modules/ngx_http_modsecurity_module.so

declare -A pkg_for=([wrk]=wrk [nginx]=nginx [taskset]=util-linux)
missing=()
for cmd in wrk nginx taskset; do
  if ! command -v "$cmd" >/dev/null 2>&1 && [[ ! -x "/usr/sbin/$cmd" ]]; then
    missing+=("${pkg_for[$cmd]}")
  fi
done
[[ -f "$MODSEC_MODULE" ]] || missing+=(libnginx-mod-http-modsecurity)

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "bench/waf: wrk, nginx, taskset and nginx's ModSecurity module ($MODSEC_MODULE) are installed"
  exit 0
fi

if [[ $check_only -eq 1 || $(id -u) -ne 0 ]]; then
  echo "bench/waf: missing: ${missing[*]}" >&2
  echo "install with:  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
  exit 1
fi

echo "bench/waf: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update
# --no-install-recommends: libmodsecurity3 recommends Debian's modsecurity-crs (CRS 3.3), which
# the bench does not use.
apt-get install -y --no-install-recommends "${missing[@]}"
# Debian's nginx package starts a system service on install; the bench never uses it (it runs its
# own instances on ports it picks). Stop it if it was started here.
if command -v systemctl >/dev/null 2>&1 && systemctl is-system-running >/dev/null 2>&1; then
  systemctl stop nginx 2>/dev/null || true
fi
[[ -f "$MODSEC_MODULE" ]] || { echo "bench/waf: $MODSEC_MODULE is still missing after the install" >&2; exit 1; }
