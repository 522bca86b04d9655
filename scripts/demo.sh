#!/usr/bin/env bash
# The main job, for the README's quick start: installs what is missing, then runs a short
# command in a sandbox that prints the guest's whole environment and shows a blocked
# connection. Needs root (sudo).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh >/dev/null
exec node dist/cli/bin.js run --name demo -- sh -c '
  echo "== the guest environment (nothing else of yours got in):"
  env | sort
  echo
  echo "== a connection to anywhere but the proxy fails at once:"
  curl -sS --max-time 5 https://example.com/ || echo "(blocked: exit $?)"
'
