"""The tools' arguments and results: msgspec Structs that validate the arguments and
give each tool its input and output JSON Schema (descriptions written for the
calling model).

The schemas are generated from the Structs, then made plain for hosts: the top-level
`$ref` is inlined, and an optional field is its own type (not `anyOf` with null).

A tool's output schema covers its failures too: a host may check an `isError`
result against it (the MCP Inspector does). The result's fields are required only
together (`anyOf`: all of them, or `error`), and `error` is `{code, message, data}`
(agy_lsp/mcp/errors.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

import msgspec

from agy_lsp.protocol import ids
from agy_lsp.protocol.agent_options import ThinkingLevel
from agy_lsp.protocol.errors import ErrorCode
from agy_lsp.protocol.types import ToolOutcome, TurnWarning, Usage

if TYPE_CHECKING:
    from agy_lsp.agents.report import TurnReport

# The core's presets offered over MCP (docs/protocol.md#policies).
Preset = Literal["safeDefaults", "confirmRunCommand", "allowAll", "denyAll", "workspaceOnly"]
State = Literal["starting", "idle", "busy", "restarting", "failed", "closed", "hibernated", "stored"]


class Args(msgspec.Struct, rename="camel", kw_only=True, forbid_unknown_fields=True):
    """Tool arguments: unknown fields are refused (a typo is an invalid argument)."""


class Out(msgspec.Struct, rename="camel", kw_only=True, omit_defaults=True):
    """Tool results (structured content)."""


# A session id is checked here, as the arguments are decoded (protocol/ids.py).
SessionId = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=ids.MAX_LENGTH,
        pattern=ids.PATTERN,
        description="The session to use, as returned by agy_run (sessionId) or listed by agy_sessions.",
    ),
]
Prompt = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        description="The task or message for the agent, in plain language, with everything it needs to know "
        "(it does not see your conversation).",
    ),
]


# ---------------------------------------------------------------------------- arguments


class RunArgs(Args):
    prompt: Prompt
    cwd: (
        Annotated[
            str,
            msgspec.Meta(
                min_length=1,
                description="Absolute path of the directory the agent works in (its file tools are scoped to it). "
                "Default: the directory the server was started in. Only for a new session.",
            ),
        ]
        | None
    ) = None
    model: (
        Annotated[str, msgspec.Meta(min_length=1, description="The model to use, e.g. gemini-2.5-pro. Default: the server's.")] | None
    ) = None
    thinking_level: (
        Annotated[ThinkingLevel, msgspec.Meta(description="How much a Gemini model thinks before it answers. Default: the model's.")] | None
    ) = None
    policy: (
        Annotated[
            Preset,
            msgspec.Meta(
                description="What the agent may do without asking. safeDefaults (the default): reading is allowed, "
                "anything else (edits, commands) needs the person's OK, or is denied when it cannot be asked. "
                "confirmRunCommand: everything is allowed but running a command asks. allowAll: everything is allowed. "
                "denyAll: no tools. workspaceOnly: file tools limited to cwd, the rest as safeDefaults."
            ),
        ]
        | None
    ) = None
    session_id: (
        Annotated[
            str,
            msgspec.Meta(
                min_length=1,
                max_length=ids.MAX_LENGTH,
                pattern=ids.PATTERN,
                description="Continue this session (its whole conversation) instead of starting a new one.",
            ),
        ]
        | None
    ) = None


class ReplyArgs(Args):
    session_id: SessionId
    prompt: Prompt


class SessionArgs(Args):
    session_id: SessionId


class SessionsArgs(Args):
    cwd: Annotated[str, msgspec.Meta(min_length=1, description="Only sessions that work in this directory (absolute path).")] | None = None
    limit: Annotated[int, msgspec.Meta(ge=1, le=200, description="At most this many, newest first. Default 20.")] = 20


class HistoryArgs(Args):
    session_id: SessionId
    limit: Annotated[int, msgspec.Meta(ge=1, le=1000, description="Only the last this many steps. Default: all (cut if long).")] | None = (
        None
    )


# ---------------------------------------------------------------------------- results


class ToolCallOut(Out):
    id: Annotated[str, msgspec.Meta(description="The call's id.")]
    name: Annotated[str, msgspec.Meta(description="The tool the agent called (an MCP tool is server/tool).")]
    outcome: Annotated[
        ToolOutcome,
        msgspec.Meta(description="completed or failed: it ran. denied or cancelled: it never ran (see reason)."),
    ]
    reason: Annotated[str, msgspec.Meta(description="Why it failed or never ran.")] | None = None


class WarningOut(Out):
    code: Annotated[str, msgspec.Meta(description="PERSIST_FAILED: the turn ran, but its session was not saved.")]
    message: str
    data: Annotated[dict[str, Any], msgspec.Meta(description="errno, cause, hint (what to do), path, turnId.")]


class RunOut(Out):
    session_id: Annotated[str, msgspec.Meta(description="Pass it to agy_reply (or agy_run) to continue this conversation.")]
    text: Annotated[str, msgspec.Meta(description="The agent's answer.")]
    stop_reason: Annotated[str, msgspec.Meta(description="end_turn when the agent finished, cancelled when the turn was cancelled.")]
    usage: Annotated[Usage, msgspec.Meta(description="Tokens this turn used.")]
    files_changed: Annotated[list[str], msgspec.Meta(description="Files the agent created or edited in this turn.")]
    tool_calls: Annotated[list[ToolCallOut], msgspec.Meta(description="Every tool call of this turn, in order, with how it ended.")]
    warning: (
        Annotated[
            WarningOut,
            msgspec.Meta(description="Only when something went wrong beside the answer, which stands: PERSIST_FAILED (not saved)."),
        ]
        | None
    ) = None


def tool_calls_out(report: TurnReport) -> list[ToolCallOut]:
    """The turn's calls (its subagents' too), each with how it ended."""
    return [ToolCallOut(id=c.id, name=c.name, outcome=c.outcome or "completed", reason=c.error) for c in report.tool_calls()]


def warning_out(w: TurnWarning | None) -> WarningOut | None:
    """The core's warning in the tool errors' shape: the code by its stable name."""
    return WarningOut(code=str(w.data.get("code", w.code)), message=w.message, data=w.data) if w is not None else None


def run_out(session_id: str, report: TurnReport) -> RunOut:
    """`agy_run` / `agy_reply`'s result: the core's report of the turn."""
    return RunOut(
        session_id=session_id,
        text=report.text,
        stop_reason=report.stop_reason or "end_turn",
        usage=report.usage or Usage(),
        files_changed=report.files_changed,
        tool_calls=tool_calls_out(report),
        warning=warning_out(report.warning),
    )


class PermissionOut(Out):
    tool: str
    decision: Literal["allow", "deny"]


class StatusOut(Out):
    session_id: str
    state: Annotated[
        State,
        msgspec.Meta(description="busy: a turn runs. idle or hibernated: ready for the next prompt. stored: not open in this server."),
    ]
    busy: Annotated[bool, msgspec.Meta(description="Whether a turn is running now.")]
    turn_count: int
    title: Annotated[str, msgspec.Meta(description="The session's first prompt, shortened.")]
    cwd: str | None = None
    model: str | None = None
    last_response: Annotated[str, msgspec.Meta(description="The end of the agent's last answer.")] = ""
    total_usage: Usage | None = None
    permissions: Annotated[
        list[PermissionOut], msgspec.Meta(description="Tools the person chose to always allow or always deny in this session.")
    ] = []


class CancelOut(Out):
    session_id: str
    cancelled: Annotated[bool, msgspec.Meta(description="False when no turn was running.")]


class SessionOut(Out):
    session_id: str
    title: str
    updated_at: Annotated[str, msgspec.Meta(description="ISO 8601, UTC.")]
    turn_count: int
    live: Annotated[bool, msgspec.Meta(description="Open in this server now.")]
    cwd: str | None = None


class SessionsOut(Out):
    sessions: list[SessionOut]
    total: Annotated[int, msgspec.Meta(description="How many sessions match, shown or not.")]


class HistoryOut(Out):
    session_id: str
    markdown: Annotated[str, msgspec.Meta(description="The conversation as a Markdown transcript.")]
    truncated: Annotated[bool, msgspec.Meta(description="Whether the start was cut to keep it short.")]


# ---------------------------------------------------------------------------- JSON Schema


def json_schema(struct: type[msgspec.Struct]) -> dict[str, Any]:
    """The Struct's JSON Schema as a plain object schema (see the module docstring)."""
    raw: dict[str, Any] = msgspec.json.schema(struct)
    defs: dict[str, Any] = raw.get("$defs", {})
    name = str(raw["$ref"]).rsplit("/", 1)[1]
    schema: dict[str, Any] = {k: v for k, v in defs.pop(name).items() if k != "title"}
    if defs:
        schema["$defs"] = defs
    for obj in [schema, *defs.values()]:
        obj.pop("title", None)
        for prop_name, prop in list(obj.get("properties", {}).items()):
            obj["properties"][prop_name] = _without_null(prop)
    return schema


ERROR: dict[str, Any] = {
    "type": "object",
    "description": "Only when the call failed (isError): what went wrong. The other fields are then those known "
    "(sessionId, and for a turn the text so far, filesChanged and toolCalls).",
    "properties": {
        "code": {
            "type": "string",
            "enum": [c.name for c in ErrorCode],
            "description": "The stable error code, e.g. TIMEOUT, BACKEND_ERROR, AGENT_BUSY, AGENT_NOT_FOUND.",
        },
        "message": {"type": "string", "description": "What went wrong, in words."},
        "data": {"type": "object", "description": "The cause: data.code is the code again, with details such as httpStatus."},
    },
    "required": ["code", "message", "data"],
}


def output_schema(struct: type[msgspec.Struct]) -> dict[str, Any]:
    """A tool's output schema: its result's fields, all of them present, or `error`."""
    schema = json_schema(struct)
    required: list[str] = schema.pop("required", [])
    schema["properties"]["error"] = ERROR
    schema["anyOf"] = [{"required": required}, {"required": ["error"]}]
    return schema


def _without_null(prop: dict[str, Any]) -> dict[str, Any]:
    options: list[dict[str, Any]] = prop.get("anyOf", [])
    kept = [o for o in options if o.get("type") != "null"]
    if len(options) != 2 or len(kept) != 1:
        return prop
    flat = {**kept[0], **{k: v for k, v in prop.items() if k not in ("anyOf", "default")}}
    if prop.get("default") is not None:
        flat["default"] = prop["default"]
    return flat
