#!/usr/bin/env bash
# The main job, for the README's quick start: installs what is missing, then runs a short
# command in a sandbox that holds a (demo) OpenAI key. It prints the guest's whole
# environment (placeholders, not the key), makes a call the endpoint rules refuse and a
# connection the kernel refuses, then shows the audit log. Nothing leaves this machine: the
# refused call never reaches an upstream. Needs root (sudo).
set -euo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp)
bash scripts/install.sh >"$log" 2>&1 || { cat "$log"; exit 1; }
rm -f "$log"
export AIRLOCK_HOME="${AIRLOCK_HOME:-/var/lib/airlock}"
airlock() { node dist/cli/bin.js "$@"; }

OPENAI_API_KEY="sk-demo-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')" \
  airlock run --name demo --cred OPENAI_API_KEY --allow-endpoint openai:POST:/v1/chat/completions -- sh -c '
  echo "== the guest environment: a placeholder and a base URL, never the key"
  env | sort
  echo
  echo "== GET /v1/models is not an allowed endpoint: the proxy refuses it"
  curl -sS "$OPENAI_BASE_URL/models" -H "Authorization: Bearer $OPENAI_API_KEY"; echo
  echo
  echo "== a connection to anywhere but the proxy fails at once"
  curl -sS --max-time 5 https://example.com/ || echo "(blocked: exit $?)"
'
echo
echo "== the audit log"
airlock audit --since 5m --sandbox demo
