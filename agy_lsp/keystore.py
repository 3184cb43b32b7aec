"""The Gemini API key: from the environment, else from the OS keyring where
`agy-lsp login` stored it (never a plain file).

The keyring is read only when a key is needed and the environment has none, and
not on the way to `initialize` (importing `keyring` and asking the OS costs ~100 ms).
A key found there is read once per process; a missing one is asked for again (a
person may run `agy-lsp login` while the server runs).
"""

from __future__ import annotations

import logging
import os
import threading

import anyio

from agy_lsp.secrets import register

SERVICE, ACCOUNT = "agy-lsp", "GEMINI_API_KEY"
log = logging.getLogger(__name__)

_lock = threading.Lock()
_found: str | None = None


class KeyringUnavailableError(Exception):
    """No OS keyring here (a headless machine without a Secret Service, say)."""


def environment_key() -> str | None:
    """GEMINI_API_KEY or GOOGLE_API_KEY from the environment."""
    return os.environ.get("GEMINI_API_KEY") or os.environ.get("GOOGLE_API_KEY") or None  # set but empty is unset


def known_key() -> str | None:
    """The key a Gemini or Vertex backend without its own uses, as far as known
    without asking the keyring: the environment's, else one read from it before."""
    return environment_key() or _found


def worth_asking(backend_is_keyless_google: bool) -> bool:
    """Whether the keyring may hold the key this backend lacks (None's default
    backend counts as keyless Google: a stored key makes it Gemini)."""
    return backend_is_keyless_google and known_key() is None and os.environ.get("AGY_KEYRING") != "0"


async def ask_if_worth(backend_is_keyless_google: bool) -> bool:
    """Reads the keyring in a worker thread when `worth_asking` (the OS may take its
    time, or ask the person to unlock it): afterwards `known_key` has what it holds.
    True when it asked."""
    if not worth_asking(backend_is_keyless_google):
        return False
    await anyio.to_thread.run_sync(stored_key)
    return True


def stored_key() -> str | None:
    """The key in the OS keyring, or None (no key stored, no keyring, or turned off
    with AGY_KEYRING=0)."""
    global _found
    if _found is not None:
        return _found
    if os.environ.get("AGY_KEYRING") == "0":
        return None
    with _lock:
        if _found is None:
            try:
                import keyring  # imported when used: ~80 ms

                _found = keyring.get_password(SERVICE, ACCOUNT) or None
            except Exception as e:
                log.debug("no key from the OS keyring: %s", e)
                return None
            register(_found)
    return _found


def keyring_name() -> str:
    """The OS keyring's name. Raises KeyringUnavailableError when there is none:
    keyring's "fail" backend, or a keyrings.alt one (those keep the key in a file)."""
    import keyring

    backend = keyring.get_keyring()
    module = type(backend).__module__
    if module == "keyring.backends.fail" or module.startswith("keyrings.alt"):
        raise KeyringUnavailableError("no Keychain, Credential Locker or Secret Service found")
    return f"{module}.{type(backend).__name__}"


def store(key: str) -> str:
    """Stores the key in the OS keyring; answers the keyring's name. Raises
    KeyringUnavailableError when there is none (the key is then stored nowhere)."""
    global _found
    import keyring

    name = keyring_name()
    try:
        keyring.set_password(SERVICE, ACCOUNT, key)
    except Exception as e:  # a locked or refused keyring
        raise KeyringUnavailableError(f"{type(e).__name__}: {e}") from e
    _found = key
    register(key)
    return name


def forget() -> bool:
    """Deletes the stored key; False when there was none."""
    global _found
    _found = None
    import keyring
    from keyring.errors import PasswordDeleteError

    keyring_name()
    try:
        keyring.delete_password(SERVICE, ACCOUNT)
    except PasswordDeleteError:
        return False
    except Exception as e:
        raise KeyringUnavailableError(f"{type(e).__name__}: {e}") from e
    return True
