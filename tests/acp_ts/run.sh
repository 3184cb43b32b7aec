#!/usr/bin/env bash
# The ACP interop suite: installs its own packages (npm ci), then drives the repo's
# .venv/bin/agy-lsp --acp with the official TypeScript SDK. `make test` runs it.
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -d node_modules/@agentclientprotocol/sdk ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
exec npm test --silent
