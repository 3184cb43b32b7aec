"""The base of every wire payload."""

from __future__ import annotations

import msgspec


class Wire(msgspec.Struct, rename="camel", omit_defaults=True, forbid_unknown_fields=False):
    """Base for every payload: camelCase keys, defaults left out of the output."""
