#!/usr/bin/env bash
# Installs what bench/proxy needs from Debian's packages: wrk (load generator), nginx (origin and a
# peer), haproxy (a peer). Installs only what is missing; runs `apt-get update` at most once.
# Without root (or with --check) it prints what is missing and how to install it, and exits 1.
# The Node peers (http-proxy, @fastify/http-proxy, fastify, undici) are devDependencies: `npm install`.
set -euo pipefail

check_only=0
[[ "${1:-}" == "--check" ]] && check_only=1

declare -A pkg_for=([wrk]=wrk [nginx]=nginx [haproxy]=haproxy [taskset]=util-linux)
missing=()
for cmd in wrk nginx haproxy taskset; do
  if ! command -v "$cmd" >/dev/null 2>&1 && [[ ! -x "/usr/sbin/$cmd" ]]; then
    missing+=("${pkg_for[$cmd]}")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "bench/proxy: wrk, nginx, haproxy and taskset are installed"
  exit 0
fi

if [[ $check_only -eq 1 || $(id -u) -ne 0 ]]; then
  echo "bench/proxy: missing: ${missing[*]}" >&2
  echo "install with:  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi

echo "bench/proxy: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends "${missing[@]}"
# Debian's nginx/haproxy packages start system services on install; the bench never uses them
# (it runs its own instances on ports it picks). Stop them if they were started here.
if command -v systemctl >/dev/null 2>&1 && systemctl is-system-running >/dev/null 2>&1; then
  systemctl stop nginx haproxy 2>/dev/null || true
fi
