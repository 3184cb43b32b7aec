"""Tools the editor runs: file reads and writes through `fs/*`, so the agent sees
unsaved buffers, and shell commands in the editor's own terminal (`terminal/*`),
so the person watches the output live.

Each replaces a built-in of the SDK when the client advertises the capability:
`view_file` -> `read_file`, `write_to_file` / `replace_file_content` -> `write_file`,
`run_command` -> `run_in_terminal` (unless the session wants the OS sandbox, which
only the harness's `run_command` has).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import anyio
from acp import Client
from acp.schema import ToolCallProgress

from agy_lsp.acp.updates import FS_READ_TOOL, FS_WRITE_TOOL, TERMINAL_TOOL, helpers, tail
from agy_lsp.protocol.types import EditorTool, RunToolResult

log = logging.getLogger(__name__)

TOOLS = {
    FS_READ_TOOL: EditorTool(
        name=FS_READ_TOOL,
        description="Read a text file as the editor has it (including unsaved changes). Lines are 1-based.",
        parameters={
            "type": "object",
            "properties": {
                "path": {"type": "string", "description": "absolute path"},
                "line": {"type": "integer", "description": "first line to read (1-based)"},
                "limit": {"type": "integer", "description": "how many lines"},
            },
            "required": ["path"],
        },
    ),
    FS_WRITE_TOOL: EditorTool(
        name=FS_WRITE_TOOL,
        description="Write a whole text file through the editor (creates or replaces it).",
        parameters={
            "type": "object",
            "properties": {"path": {"type": "string", "description": "absolute path"}, "content": {"type": "string"}},
            "required": ["path", "content"],
        },
    ),
    TERMINAL_TOOL: EditorTool(
        name=TERMINAL_TOOL,
        description=(
            "Run a shell command in the editor's terminal, where the person sees its output live, and wait for it "
            "to exit. Returns the exit code and the end of the output."
        ),
        parameters={
            "type": "object",
            "properties": {
                "CommandLine": {"type": "string", "description": "the command, run by /bin/sh -c"},
                "Cwd": {"type": "string", "description": "absolute working directory"},
            },
            "required": ["CommandLine"],
        },
    ),
}
REPLACED = {FS_READ_TOOL: ["view_file"], FS_WRITE_TOOL: ["create_file", "edit_file"], TERMINAL_TOOL: ["run_command"]}

OUTPUT_BYTE_LIMIT = 1_000_000  # what the editor keeps of a command's output (it drops the start)
MODEL_OUTPUT = 8_000  # what the model gets back: the tail, as the harness's run_command does


def absolute(path: str, cwd: str) -> str:
    return path if Path(path).is_absolute() else str(Path(cwd) / path)


async def read_file(client: Client | None, through_editor: bool, session_id: str, args: dict[str, Any], cwd: str) -> RunToolResult:
    path = args.get("path")
    if not isinstance(path, str) or not path:
        return RunToolResult(error="`path` (an absolute path) is required")
    path = absolute(path, cwd)
    line, limit = args.get("line"), args.get("limit")
    line = line if isinstance(line, int) else None
    limit = limit if isinstance(limit, int) else None
    if through_editor and client is not None:
        read = await client.read_text_file(session_id=session_id, path=path, line=line, limit=limit)
        return RunToolResult(content=read.content)
    lines = (await anyio.Path(path).read_text()).splitlines(keepends=True)
    start = max(0, (line or 1) - 1)
    return RunToolResult(content="".join(lines[start : None if limit is None else start + limit]))


async def write_file(client: Client | None, through_editor: bool, session_id: str, args: dict[str, Any], cwd: str) -> RunToolResult:
    path = args.get("path")
    if not isinstance(path, str) or not path:
        return RunToolResult(error="`path` (an absolute path) is required")
    path = absolute(path, cwd)
    content = str(args.get("content", ""))
    if through_editor and client is not None:
        await client.write_text_file(session_id=session_id, path=path, content=content)
    else:
        await anyio.Path(path).write_text(content)
    return RunToolResult(content=f"wrote {len(content)} characters to {path}")


async def old_text(client: Client | None, through_editor: bool, session_id: str, path: str) -> str | None:
    """A file's text before an edit (the editor's buffer when it can), for a whole-file
    diff; None for a new file, or one we could not read in time."""
    try:
        with anyio.fail_after(5):
            if through_editor and client is not None:
                return (await client.read_text_file(session_id=session_id, path=path)).content
            file = anyio.Path(path)
            if not await file.is_file() or (await file.stat()).st_size > OUTPUT_BYTE_LIMIT:
                return None
            return await file.read_text(errors="replace")
    except Exception as e:  # a new file, or an editor that would not say
        log.debug("no old text for %s: %s", path, e)
        return None


async def run_in_terminal(client: Client, session_id: str, call_id: str, args: dict[str, Any], cwd: str, show: Any) -> RunToolResult:
    """The command in the editor's terminal: the call's content becomes that terminal
    (the editor streams it live), the model gets the exit code and the output's tail.
    A cancelled turn kills the command. `show(update)` sends a session update."""
    command = args.get("CommandLine")
    if not isinstance(command, str) or not command.strip():
        return RunToolResult(error="`CommandLine` is required")
    where = args.get("Cwd")
    where = absolute(where, cwd) if isinstance(where, str) and where else cwd
    created = await client.create_terminal(
        session_id=session_id, command="/bin/sh", args=["-c", command], cwd=where, output_byte_limit=OUTPUT_BYTE_LIMIT
    )
    terminal = created.terminal_id
    show(
        ToolCallProgress(
            session_update="tool_call_update", tool_call_id=call_id, status="in_progress", content=[helpers.tool_terminal_ref(terminal)]
        )
    )
    try:
        try:
            exited = await client.wait_for_terminal_exit(session_id=session_id, terminal_id=terminal)
        except anyio.get_cancelled_exc_class():
            with anyio.CancelScope(shield=True), anyio.move_on_after(5):
                await client.kill_terminal(session_id=session_id, terminal_id=terminal)
            raise
        with anyio.fail_after(10):
            output = await client.terminal_output(session_id=session_id, terminal_id=terminal)
    finally:
        with anyio.CancelScope(shield=True), anyio.move_on_after(5):
            try:
                await client.release_terminal(session_id=session_id, terminal_id=terminal)
            except Exception as e:
                log.info("terminal %s not released: %s", terminal, e)
    code = exited.exit_code
    status = f"exit code {code}" if code is not None else f"killed by {exited.signal or 'a signal'}"
    cut = " (the editor kept only the end of the output)" if output.truncated else ""
    return RunToolResult(content=f"{status}{cut}\n{tail(output.output, MODEL_OUTPUT)}")
