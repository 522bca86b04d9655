#!/usr/bin/env bash
# Installs what airlock needs on Debian/Ubuntu, saying what it does at each step: the system
# programs it drives, then the npm dependencies, then the build, skipping what is already done.
# Used by the README, .ci/run, scripts/demo.sh and the Vagrantfile. Run as root in a clone that
# someone else owns (`sudo scripts/demo.sh`), it runs npm as that owner, so node_modules and
# dist stay theirs.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { echo "install: $*"; }

SYSTEM_PACKAGES=(nftables iproute2 util-linux procps bubblewrap curl git ca-certificates openssl)
# --with-test-tools: what the test suite drives inside sandboxes besides (tmux, keyctl, pip, gh)
# --with-bench-tools: what `npm run bench` compares airlock with and loads it by (wrk, nginx, haproxy)
for arg in "$@"; do
  case "$arg" in
    --with-test-tools) SYSTEM_PACKAGES+=(tmux keyutils python3 python3-pip zsh gh) ;;
    --with-bench-tools) SYSTEM_PACKAGES+=(wrk nginx-light haproxy) ;;
    *) echo "install.sh: unknown flag $arg (--with-test-tools, --with-bench-tools)" >&2; exit 2 ;;
  esac
done

say "[1/4] system packages: ${SYSTEM_PACKAGES[*]}"
missing=()
for p in "${SYSTEM_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  say "installing ${missing[*]} with apt-get"
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  say "all present"
fi

command -v node >/dev/null || { echo "install.sh: airlock needs Node.js >= 20.18 (see the README: Install)" >&2; exit 1; }
say "[2/4] Node.js: $(command -v node) $(node --version)"
node -e 'const [a,b]=process.versions.node.split(".").map(Number); if (a<20||(a===20&&b<18)) { console.error("airlock needs Node >= 20.18, found "+process.versions.node+" (see the README: Install)"); process.exit(1) }'

# npm runs as the clone's owner: as root in someone else's clone it would leave root's files there
owner=$(stat -c %U .)
as_owner=()
npm_user=$(id -un)
if [ "$(id -u)" -eq 0 ] && [ "$owner" != root ] && id -u "$owner" >/dev/null 2>&1; then
  as_owner=(runuser -u "$owner" --)
  npm_user=$owner
  for made in node_modules dist; do
    # an earlier install run as root left these root's: give them back
    if [ -e "$made" ] && [ -n "$(find "$made" ! -user "$owner" -print -quit)" ]; then
      say "giving $made back to $owner"
      chown -R --reference=. "$made"
    fi
  done
fi
run_npm() { "${as_owner[@]}" npm "$@"; }

# npm ci starts from scratch; skip it when node_modules already matches the lockfile
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "[3/4] npm dependencies: npm ci as $npm_user (a minute or two the first time; better-sqlite3 may compile)"
  run_npm ci --no-audit --no-fund
else
  say "[3/4] npm dependencies: up to date with package-lock.json"
fi

# the build is up to date when nothing it reads is newer than its last output
if [ ! -x dist/bin/airlock.js ] || [ -n "$(find src scripts/bundle.mjs package.json tsconfig.json tsconfig.build.json -newer dist/bin/airlock.js -print -quit)" ]; then
  say "[4/4] build: npm run build as $npm_user"
  run_npm run --silent build
else
  say "[4/4] build: up to date"
fi
say "done"
