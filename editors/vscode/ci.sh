#!/usr/bin/env bash
# Build, lint, test and package the VS Code extension, then run it in a real VS Code.
# Run by `make vscode` (inside `make test`), from a clean clone too: it installs what it
# needs (npm packages; Node 24, code-server and Debian's chromium through provision.sh). Set AGY_VSCODE_E2E=0 to skip the real-VS Code
# suite, AGY_VSCODE_CACHE to keep the Node 24 / code-server cache elsewhere.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
start=$SECONDS
step() { echo "== $* ($((SECONDS - start))s)"; }

server="${AGY_LSP_COMMAND:-../../.venv/bin/agy-lsp}"
if [[ -z "${AGY_LSP_COMMAND:-}" && ! -x "$server" ]]; then
  echo "editors/vscode: $server not found; run 'make venv' first or set AGY_LSP_COMMAND" >&2
  exit 1
fi

# npm ci, unless node_modules came from npm ci of this very package-lock.json on this Node.
stamp="$(sha256sum package-lock.json | cut -d' ' -f1) $(node --version)"
if [[ -f node_modules/.agy-ci-stamp && "$(cat node_modules/.agy-ci-stamp)" == "$stamp" ]]; then
  step "npm ci: node_modules is up to date with package-lock.json"
else
  step "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$stamp" >node_modules/.agy-ci-stamp
fi
step "types (strict; builds the tests), eslint, bundle (esbuild)"
rm -rf out dist
npx --no-install tsc -p .
npx --no-install tsc -p src/webview
npx --no-install eslint --max-warnings=0 .
node esbuild.mjs
step "unit and protocol tests (node --test, fake vscode, real agy-lsp on the scripted model)"
node --test out/test/*.test.js

step "vsce package (vscode:prepublish: production bundle + agy-lsp wheel)"
rm -f ./*.vsix
# The wheel comes from the repository's venv (pip wheel --no-deps), see scripts/prepublish.mjs.
npx --no-install vsce package --no-dependencies --allow-missing-repository --skip-license --out agy-vscode.vsix
python3 - <<'PY'
import sys, zipfile
names = zipfile.ZipFile("agy-vscode.vsix").namelist()
print(f"agy-vscode.vsix: {len(names)} files:", ", ".join(n.removeprefix("extension/") for n in names))
if not any(n.startswith("extension/server/agy_lsp-") and n.endswith(".whl") for n in names):
    sys.exit("the .vsix has no agy-lsp wheel")
if len(names) >= 30:
    sys.exit(f"the .vsix holds {len(names)} files (want fewer than 30)")
PY

if [[ "${AGY_VSCODE_E2E:-1}" == "0" ]]; then
  echo "editors/vscode: real-VS Code suite skipped (AGY_VSCODE_E2E=0); ok in $((SECONDS - start))s"
  exit 0
fi

step "Node 24, code-server and chromium (provision.sh; waits for the run make test started)"
provided=$(bash provision.sh)
mapfile -t tools <<<"$provided"  # AGY_CHROMIUM=..., AGY_NODE24_BIN=..., AGY_CODE_SERVER=...

step "real VS Code: the .vsix in code-server, headless $("${tools[0]#AGY_CHROMIUM=}" --version 2>/dev/null | head -1)"
env "${tools[@]}" AGY_VSIX="$PWD/agy-vscode.vsix" node --test --test-concurrency=1 out/test/e2e/*.e2e.js
echo "editors/vscode: ok in $((SECONDS - start))s"
