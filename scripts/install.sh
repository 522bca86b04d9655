#!/usr/bin/env bash
# Installs what airlock needs on Debian/Ubuntu: the system programs it drives, then the npm
# dependencies, then the build. Used by the README, .ci/run and the Vagrantfile.
set -euo pipefail
cd "$(dirname "$0")/.."

SYSTEM_PACKAGES=(nftables iproute2 util-linux procps bubblewrap curl git ca-certificates openssl)
# --with-test-tools: what the test suite drives inside sandboxes besides (tmux, keyctl, pip)
# --with-bench-tools: what `npm run bench` compares airlock with and loads it by (wrk, nginx, haproxy)
for arg in "$@"; do
  case "$arg" in
    --with-test-tools) SYSTEM_PACKAGES+=(tmux keyutils python3 python3-pip) ;;
    --with-bench-tools) SYSTEM_PACKAGES+=(wrk nginx-light haproxy) ;;
    *) echo "install.sh: unknown flag $arg (--with-test-tools, --with-bench-tools)" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${SYSTEM_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

node -e 'const [a,b]=process.versions.node.split(".").map(Number); if (a<20||(a===20&&b<18)) { console.error("airlock needs Node >= 20.18, found "+process.versions.node); process.exit(1) }'
# npm ci starts from scratch; skip it when node_modules already matches the lockfile
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npm run build
