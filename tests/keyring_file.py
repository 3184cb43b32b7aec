"""A keyring backend for tests only: a JSON file named by AGY_TEST_KEYRING.

agy-lsp never keeps a key in a file; this stands in for the OS keyring (the Secret
Service, which a headless test machine lacks) so `agy-lsp login` can be tested for
real in subprocesses: PYTHON_KEYRING_BACKEND=tests.keyring_file.FileKeyring.
"""

from __future__ import annotations

import json
import os

from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError


class FileKeyring(KeyringBackend):
    priority = 1  # pyright: ignore[reportAssignmentType]

    def _load(self) -> dict[str, str]:
        try:
            with open(os.environ["AGY_TEST_KEYRING"]) as f:
                return json.load(f)
        except FileNotFoundError:
            return {}

    def _save(self, data: dict[str, str]) -> None:
        with open(os.environ["AGY_TEST_KEYRING"], "w") as f:
            json.dump(data, f)

    def get_password(self, service: str, username: str) -> str | None:
        return self._load().get(f"{service}/{username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        self._save({**self._load(), f"{service}/{username}": password})

    def delete_password(self, service: str, username: str) -> None:
        data = self._load()
        if data.pop(f"{service}/{username}", None) is None:
            raise PasswordDeleteError("no such password")
        self._save(data)
