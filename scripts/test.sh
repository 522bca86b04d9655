#!/usr/bin/env bash
# The README's test command (and CI's): installs what is missing, then runs typecheck, lint,
# format check, build and every test. Privileged tests (namespaces, nftables) need root.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh --with-test-tools
npm test
