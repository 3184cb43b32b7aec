"""The running turn's stream to the editor: SDK steps -> numbered `agy/chatChunk`s."""

from __future__ import annotations

from typing import Any

from agy_lsp.agents import convert
from agy_lsp.agents.editor import Editor
from agy_lsp.protocol.types import ChatChunk, ChunkKind, ToolCall, ToolResult


class TurnChunks:
    def __init__(self, agent_id: str, editor: Editor) -> None:
        self.agent_id = agent_id
        self.editor = editor
        self.turn_id: str | None = None
        self._seq = 0

    def begin(self, turn_id: str) -> None:
        self.turn_id, self._seq = turn_id, 0

    def end(self) -> None:
        self.turn_id = None

    def emit(
        self, kind: ChunkKind, *, text: str | None = None, tool_call: ToolCall | None = None, tool_result: ToolResult | None = None
    ) -> None:
        """One chunk, numbered from 1 within the turn; nothing when no turn runs."""
        if self.turn_id is None:
            return
        self._seq += 1
        self.editor.chunk(
            ChatChunk(
                agent_id=self.agent_id,
                turn_id=self.turn_id,
                seq=self._seq,
                kind=kind,
                text=text,
                tool_call=tool_call,
                tool_result=tool_result,
            )
        )

    async def pump(self, conv: Any, text: list[str]) -> None:
        """Forwards the turn's steps until it ends; the answer's text is collected in `text`."""
        from google.antigravity import types as sdk

        seen_calls: set[str] = set()  # the SDK streams a step again as it grows
        model, user, error = sdk.StepSource.MODEL, sdk.StepTarget.USER, sdk.StepStatus.ERROR
        async for step in conv.receive_steps():
            if step.source == model and step.target == user and step.status != error:
                if step.thinking_delta:
                    self.emit("thought", text=step.thinking_delta)
                if step.content_delta:
                    text.append(step.content_delta)
                    self.emit("text", text=step.content_delta)
            for call in step.tool_calls:
                if not call.id or call.id not in seen_calls:
                    if call.id:
                        seen_calls.add(call.id)
                    self.emit("toolCall", tool_call=convert.tool_call(call))
