"""Keys never leave the process: not in logs, errors, history, status or state files.

Backends register the keys they are given; `scrub` replaces them (and anything
shaped like a well-known key) wherever text crosses to the outside.
"""

from __future__ import annotations

import logging
import os
import re

_known: set[str] = set()
generation = 0  # bumped when a new key is registered (scrubbed text made earlier may show it)
_SHAPED = re.compile(r"(AIza[0-9A-Za-z_\-]{10,}|sk-[0-9A-Za-z_\-]{10,}|(?i:key=)[^&\s\"']+)")
REDACTED = "[redacted]"


def register(secret: str | None) -> None:
    global generation
    if secret and len(secret) >= 8 and secret not in _known:
        _known.add(secret)
        generation += 1


def register_environment() -> None:
    for name in ("GEMINI_API_KEY", "GOOGLE_API_KEY", "OPENAI_API_KEY"):
        register(os.environ.get(name))


def scrub_known(text: str) -> str:
    """Cheap: only the registered keys (used on history, which can be large)."""
    for secret in _known:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


def scrub(text: str) -> str:
    """Registered keys and anything shaped like a key."""
    return _SHAPED.sub(REDACTED, scrub_known(text))


class ScrubFilter(logging.Filter):
    """A logging filter that scrubs every record before any handler sees it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = scrub(message)
        if cleaned != message or record.exc_info:
            if record.exc_info:
                cleaned = scrub(cleaned + "\n" + logging.Formatter().formatException(record.exc_info))
                record.exc_info = None
                record.exc_text = None
            record.msg, record.args = cleaned, None
        return True
