#!/usr/bin/env bash
# Build, lint, test and package the VS Code extension. Run by `make vscode`
# (inside `make test`). Needs node >= 20 and npm; only npm ci touches the network.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
start=$SECONDS

server="${AGY_LSP_COMMAND:-../../.venv/bin/agy-lsp}"
if [[ -z "${AGY_LSP_COMMAND:-}" && ! -x "$server" ]]; then
  echo "editors/vscode: $server not found; run 'make venv' first or set AGY_LSP_COMMAND" >&2
  exit 1
fi

echo "== npm ci"
npm ci --no-audit --no-fund --loglevel=error
echo "== tsc (strict)"
rm -rf out
npx --no-install tsc -p .
echo "== eslint"
npx --no-install eslint --max-warnings=0 .
echo "== tests (node --test, real agy-lsp on the scripted model)"
node --test out/test/*.test.js
echo "== vsce package"
rm -f ./*.vsix
npx --no-install @vscode/vsce package --allow-missing-repository --skip-license --out agy-vscode.vsix
ls -l agy-vscode.vsix
echo "editors/vscode: ok in $((SECONDS - start))s"
