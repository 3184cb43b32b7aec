#!/bin/sh
# The terminal chat is tested in tmux (tests/chat_tmux): install it when it is missing.
set -e
command -v tmux >/dev/null 2>&1 && exit 0
SUDO=""
[ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && SUDO="sudo"
$SUDO apt-get install -y tmux || { $SUDO apt-get update && $SUDO apt-get install -y tmux; }
