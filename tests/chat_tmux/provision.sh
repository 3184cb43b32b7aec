#!/bin/sh
# The terminal chat is tested in tmux (tests/chat_tmux): install it when it is missing.
set -e
command -v tmux >/dev/null 2>&1 && exit 0
SUDO=""
[ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && SUDO="sudo"
# one apt-get at a time across the project's provision scripts (they run side by side in make test)
$SUDO flock /tmp/agy-lsp-apt.lock apt-get install -y tmux || { $SUDO flock /tmp/agy-lsp-apt.lock apt-get update && $SUDO flock /tmp/agy-lsp-apt.lock apt-get install -y tmux; }
