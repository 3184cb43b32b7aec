"""The editor side of the core when several hosts share the server (HTTP): whether a
tool call may be put to the person is decided by the host whose turn it is.

On stdio `McpEditor.can_elicit` is the one host's capability. Over HTTP that flag is
whichever host made the latest request, so a host without elicitation could be sent
a form, and one with it be denied. Here each turn's own connection decides: the core
asks `can_confirm` first (no turn named), and a turn whose host cannot ask is then
refused in `confirm_tool_call` with the same reason.
"""

from __future__ import annotations

from agy_lsp.mcp.mcp_editor import McpEditor, Run
from agy_lsp.protocol.types import ConfirmToolCallParams, ConfirmToolCallResult

CANNOT_ASK = "this host cannot ask (it declared no form elicitation)"


def can_ask(run: Run) -> bool:
    """The rule of Tools._seen, for one turn's connection."""
    caps = run.session.client_capabilities
    elicit = caps.elicitation if caps is not None else None
    form = elicit is not None and (elicit.form is not None or elicit.url is None)  # `{}` means form (2025-06-18)
    return form and run.session.can_send_request


class NoElicitationError(Exception):
    pass


class HttpEditor(McpEditor):
    def can_confirm(self) -> bool:
        return any(can_ask(run) for run in list(self.runs.values()))

    async def confirm_tool_call(self, params: ConfirmToolCallParams) -> ConfirmToolCallResult:
        run = self.runs.get(params.turn_id)
        if run is not None and not can_ask(run):
            raise NoElicitationError(CANNOT_ASK)  # the core denies the call, with this as the reason
        return await super().confirm_tool_call(params)
