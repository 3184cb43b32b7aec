"""`agy-lsp login` and `agy-lsp logout`: a Gemini API key kept in the OS keyring.

`login` asks for the key without echoing it (or reads one line from a pipe), asks the
Gemini API whether it works (a refused key is not stored), and stores it in the OS
keyring: the macOS Keychain, the Windows Credential Locker, the Secret Service on
Linux. Never in a file: without a keyring it says so and stores nothing. The server
uses the stored key when GEMINI_API_KEY and GOOGLE_API_KEY are unset. An ACP client
that runs terminal auth methods offers this as "Log in with a Gemini API key".
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys

from agy_lsp import keystore
from agy_lsp.backends.identity import gemini_api_url

_TIMEOUT_SECS = 10


def main(argv: list[str], logout: bool = False) -> int:
    name = "logout" if logout else "login"
    about = "Keep a Gemini API key in the OS keyring (never a file)." if not logout else "Remove the stored Gemini API key."
    p = argparse.ArgumentParser(prog=f"agy-lsp {name}", description=about)
    if not logout:
        p.add_argument("--no-check", action="store_true", help="store the key without asking the Gemini API whether it works")
    ns = p.parse_args(argv)
    try:
        return _logout() if logout else _login(ns.no_check)
    except keystore.KeyringUnavailableError as e:
        # keyring's own text suggests keyrings.alt, a plain-text key file: not ours to suggest.
        if logout:
            print(f"agy-lsp logout: no OS keyring is available here ({e}), so no key is stored in one.", file=sys.stderr)
            return 1
        print(
            f"agy-lsp login: no OS keyring is available here ({e}); nothing was stored. "
            "Set GEMINI_API_KEY in the environment the editor starts agy-lsp with instead.",
            file=sys.stderr,
        )
        return 1
    except KeyboardInterrupt:
        return 130


def _login(no_check: bool) -> int:
    keystore.keyring_name()  # no keyring: say so before asking for a key it could not keep
    if sys.stdin.isatty():
        key = getpass.getpass("Gemini API key (get one at https://aistudio.google.com/apikey): ").strip()
    else:
        key = sys.stdin.readline().strip()
    if not key:
        print("agy-lsp login: no key given; nothing was stored.", file=sys.stderr)
        return 2
    if not no_check:
        refused, note = _check(key)
        if refused:
            print(f"agy-lsp login: the Gemini API refused this key: {note}. Nothing was stored.", file=sys.stderr)
            return 1
        if note:
            print(f"agy-lsp login: could not check the key ({note}); storing it unchecked.", file=sys.stderr)
    where = keystore.store(key)
    print(f"Stored the Gemini API key in the OS keyring ({where}).")
    print("agy-lsp uses it whenever GEMINI_API_KEY is unset; `agy-lsp logout` removes it.")
    return 0


def _logout() -> int:
    if keystore.forget():
        print("Removed the Gemini API key from the OS keyring. Servers already running keep it until they restart.")
    else:
        print("No Gemini API key was stored.")
    return 0


def _check(key: str) -> tuple[bool, str]:
    """(refused, why): asks the Gemini API for one model with the key. Unreachable is
    not refused (an offline laptop may still store its key)."""
    import urllib.error
    import urllib.request

    request = urllib.request.Request(f"{gemini_api_url()}/v1beta/models?pageSize=1", headers={"x-goog-api-key": key})
    try:
        with urllib.request.urlopen(request, timeout=_TIMEOUT_SECS):
            return False, ""
    except urllib.error.HTTPError as e:
        if e.code in (400, 401, 403):
            return True, _message(e.read()) or f"HTTP {e.code}"
        return False, f"HTTP {e.code}"
    except (urllib.error.URLError, OSError) as e:
        return False, str(getattr(e, "reason", e))


def _message(body: bytes) -> str:
    try:
        return str(json.loads(body)["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return ""
