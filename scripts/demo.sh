#!/usr/bin/env bash
# The README's first command: installs what is missing (saying what it does), then shows what
# airlock is for. A stand-in for the OpenAI API runs on a loopback address of this machine; a
# sandbox holding only a placeholder for a (made-up) key makes one successful call with the
# official openai SDK, which the stand-in receives with the real key; then a call the endpoint
# rules refuse, a connection around the proxy the kernel refuses, and the audit log. Nothing
# leaves this machine. Needs root (sudo).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
export AIRLOCK_HOME="${AIRLOCK_HOME:-/var/lib/airlock}"
airlock() { node dist/bin/airlock.js "$@"; }

# the stand-in's address: a loopback one of its own, so a web server on 127.0.0.1 is no obstacle
address=127.0.0.44
key="sk-demo-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
private=$(mktemp -d) # 0700: the stand-in's TLS key and the config
guest=$(mktemp -d)   # what the guest is shown: its program
standin=
cleanup() {
  [ -z "$standin" ] || kill "$standin" 2>/dev/null || true
  rm -rf "$private" "$guest"
}
trap cleanup EXIT

echo "demo: starting a stand-in for api.openai.com on https://$address (a throwaway certificate)"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
  -subj /CN=api.openai.com -addext subjectAltName=DNS:api.openai.com \
  -keyout "$private/key.pem" -out "$private/cert.pem" 2>/dev/null
DEMO_OPENAI_KEY="$key" node scripts/demo/openai-stand-in.mjs "$private" "$address" &
standin=$!
for _ in $(seq 100); do
  [ -e "$private/ready" ] && break
  kill -0 "$standin" 2>/dev/null || break
  sleep 0.1
done
[ -e "$private/ready" ] || { echo "demo: the stand-in did not start" >&2; exit 1; }
# `resolve` pins the name to the stand-in and `upstreamCa` trusts its certificate (docs/config.md)
printf '{ "resolve": { "api.openai.com": "%s" }, "upstreamCa": ["%s"] }\n' "$address" "$private/cert.pem" \
  >"$private/config.json"

echo "demo: bundling the guest's program with the official openai SDK"
chmod 0755 "$guest"
node_modules/.bin/esbuild scripts/demo/agent.mjs --bundle --platform=node --format=cjs \
  --log-level=warning --outfile="$guest/agent.cjs"
chmod 0644 "$guest/agent.cjs"

since=$(date -u +%Y-%m-%dT%H:%M:%SZ)
echo "demo: airlock run --cred OPENAI_API_KEY --allow-endpoint openai:POST:/v1/chat/completions -- node agent.cjs"
OPENAI_API_KEY="$key" airlock run --name demo --config "$private/config.json" --cred OPENAI_API_KEY \
  --allow-endpoint openai:POST:/v1/chat/completions --workdir "$guest" -- node agent.cjs
echo
echo "== the audit log"
airlock audit --since "$since" --sandbox demo
