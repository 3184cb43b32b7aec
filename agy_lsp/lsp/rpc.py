"""Turning handler failures into JSON-RPC errors with a stable code and the cause in data."""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import anyio
import msgspec
from pygls.exceptions import JsonRpcException

from agy_lsp.protocol.errors import AgyError, ErrorCode

log = logging.getLogger(__name__)
T = TypeVar("T", bound=msgspec.Struct)
_PATH = re.compile(r"at `\$\.([^`]+)`")  # where msgspec says the bad value is


def decode(params: Any, cls: type[T]) -> T:
    """Params as a Struct; anything malformed becomes InvalidParams (-32602)."""
    if params is None:
        params = {}
    if hasattr(params, "__attrs_attrs__") or not isinstance(params, (dict, list)):
        raise AgyError(ErrorCode.INVALID_PARAMS, "params must be an object", {"got": type(params).__name__})
    try:
        return msgspec.convert(params, cls)
    except msgspec.ValidationError as e:
        data: dict[str, Any] = {"cause": str(e)}
        if where := _PATH.search(str(e)):
            data["field"] = where.group(1)  # e.g. modelOptions.thinkingLevel
        raise AgyError(ErrorCode.INVALID_PARAMS, f"invalid params: {e}", data) from e


def to_jsonrpc(error: AgyError) -> JsonRpcException:
    return JsonRpcException(message=error.message, code=int(error.code), data=error.data)


Handler = Callable[..., Awaitable[Any]]


def rpc(fn: Handler) -> Handler:
    """Wraps an async handler `fn(ls, params)`: AgyError -> its code; any other
    exception -> -32603 with the type and message in data (never a bare -32603)."""

    @functools.wraps(fn)
    async def wrapper(ls: Any, params: Any) -> Any:
        try:
            return await fn(ls, params)
        except AgyError as e:
            raise to_jsonrpc(e) from e
        except anyio.get_cancelled_exc_class():
            raise
        except JsonRpcException:
            raise
        except Exception as e:
            log.exception("handler %s failed", fn.__name__)
            raise JsonRpcException(
                message=f"internal error: {type(e).__name__}",
                code=int(ErrorCode.INTERNAL_ERROR),
                data={"code": "INTERNAL_ERROR", "type": type(e).__name__, "cause": str(e)[:2000]},
            ) from e

    return wrapper
