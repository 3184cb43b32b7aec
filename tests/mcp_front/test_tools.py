"""tools/list: names, input and output schemas; bad arguments are protocol errors and
the server goes on."""

from __future__ import annotations

import json

import jsonschema
import pytest
from mcp import MCPError

from tests.mcp_front.conftest import Host, failed, replies

pytestmark = pytest.mark.asyncio(loop_scope="package")  # the shared server lives in the package's loop

TOOLS = {"agy_run", "agy_reply", "agy_status", "agy_cancel", "agy_sessions", "agy_history"}


async def test_tools_list_gives_schemas_and_arguments_outside_them_are_invalid_params(host: Host) -> None:
    assert host.init.server_info.name == "agy-lsp"
    assert host.init.instructions and "agy_run" in host.init.instructions
    resources = host.init.capabilities.resources
    assert resources is not None and resources.subscribe and resources.list_changed
    tools = {t.name: t for t in (await host.session.list_tools()).tools}
    assert set(tools) == TOOLS
    for tool in tools.values():
        assert tool.description and len(tool.description) > 40, tool.name
        for schema in (tool.input_schema, tool.output_schema):
            assert schema is not None and schema["type"] == "object", tool.name
            jsonschema.Draft202012Validator.check_schema(schema)
            fields = {k: v for k, v in schema.items() if k != "anyOf"}  # the top-level anyOf: a result or a failure
            assert "anyOf" not in json.dumps(fields), f"{tool.name}: optional fields should be plain"
        # a result has all its fields, or is a failure with `error` (and what is known)
        assert tool.output_schema["anyOf"][1] == {"required": ["error"]}, tool.name
        assert tool.output_schema["properties"]["error"]["required"] == ["code", "message", "data"], tool.name
        assert tool.input_schema["additionalProperties"] is False
    run = tools["agy_run"]
    assert run.input_schema["required"] == ["prompt"]
    assert set(run.input_schema["properties"]) == {"prompt", "cwd", "model", "thinkingLevel", "policy", "sessionId"}
    assert "safeDefaults" in run.input_schema["properties"]["policy"]["enum"]
    assert set(run.output_schema["anyOf"][0]["required"]) == {"sessionId", "text", "stopReason", "usage", "filesChanged", "toolCalls"}
    assert tools["agy_reply"].input_schema["required"] == ["sessionId", "prompt"]
    assert tools["agy_reply"].output_schema == run.output_schema
    assert run.annotations is not None and run.annotations.read_only_hint is False
    for name in ("agy_status", "agy_sessions", "agy_history"):
        hints = tools[name].annotations
        assert hints is not None and hints.read_only_hint is True

    for tool, args, field in BAD:
        with pytest.raises(MCPError) as e:
            await host.call(tool, args)
        assert e.value.error.code == -32602, (tool, args)
        assert field in e.value.error.message
        assert (e.value.error.data or {})["code"] == "INVALID_PARAMS"


BAD = [
    ("agy_run", {}, "prompt"),
    ("agy_run", {"prompt": 42}, "prompt"),
    ("agy_run", {"prompt": "hi", "sessionld": "typo"}, "sessionld"),
    ("agy_run", {"prompt": "hi", "policy": "yolo"}, "policy"),
    ("agy_reply", {"prompt": "hi"}, "sessionId"),
    ("agy_sessions", {"limit": 0}, "limit"),
]


async def test_bad_arguments_and_failures_never_end_the_server(host: Host) -> None:
    replies(host, {"status": 500, "errorBody": "the model fell over"})
    for tool, args in [
        ("agy_nope", {"prompt": "hi"}),
        ("agy_run", {"prompt": "   "}),  # fits the schema, but the core finds it empty
        ("agy_run", {"prompt": "hi", "cwd": "relative/dir"}),
        ("agy_run", {"prompt": "hi", "cwd": "/no/such/dir"}),
        ("agy_run", {"prompt": "hi", "thinkingLevel": "high"}),  # Gemini only; this server's model is OpenAI-compatible
    ]:
        with pytest.raises(MCPError) as e:
            await host.call(tool, args)
        assert e.value.error.code == -32602, (tool, args)

    # An unknown session is the tool's failure, with a code the calling model can act on.
    error = failed(await host.call("agy_reply", {"sessionId": "nope", "prompt": "hi"}))
    assert error["code"] == "AGENT_NOT_FOUND" and "agy_sessions" in error["message"]
    assert failed(await host.call("agy_status", {"sessionId": "nope"}))["code"] == "AGENT_NOT_FOUND"

    # A failed turn: isError with the stable code and its cause; the session goes on.
    result = await host.call("agy_run", {"prompt": "first"})
    error = failed(result)
    assert error["code"] == "BACKEND_ERROR" and error["data"]["code"] == "BACKEND_ERROR"
    assert "fell over" in json.dumps(error["data"])
    assert result.content[0].type == "text" and json.loads(result.content[0].text) == result.structured_content
    session_id = result.structured_content["sessionId"]
    again = await host.reply(session_id, "second")
    assert again["text"] == "You said: second"
