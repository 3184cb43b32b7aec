"""Wire types: msgspec Structs for every agy/* payload, method names and error codes.

Shared by the server front-ends and the Python client, so both sides decode
exactly the same shapes. camelCase on the wire, snake_case in Python.
"""

from agy_lsp.protocol.errors import ErrorCode
from agy_lsp.protocol.methods import Method

__all__ = ["ErrorCode", "Method"]
