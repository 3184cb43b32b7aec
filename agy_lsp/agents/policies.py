"""Wire policies -> the SDK's `google.antigravity.hooks.policy` objects.

Matching stays the SDK's. Two things are ours: globs in `tool` are expanded
against the agent's known tool names (the SDK matches exact names and "*"), and
an argument matcher becomes a `when` predicate. Whatever the rules leave open
falls to the safe default: reading is allowed, anything else asks the editor.

MCP tools are named `server/tool` (agents/mcp.py). The SDK matches `server/tool`
and `server/*` itself; a glob in the tool part (`github/get_*`) becomes
`server/*` plus a predicate on the tool's name, because an MCP server's tools
are only known once the harness has started it. A bare name never matches an
MCP tool, and the default asks the editor for every MCP call.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING

from agy_lsp.agents import mcp
from agy_lsp.agents.errors import invalid_params
from agy_lsp.protocol.types import ArgMatcher, Policies, PolicyPreset, PolicyRule

if TYPE_CHECKING:
    from google.antigravity import types as sdk
    from google.antigravity.hooks.policy import Policy

AskHandler = Callable[["sdk.ToolCall", "str | None"], Awaitable[bool]]


def normalize(spec: Policies | list[PolicyRule] | PolicyPreset | None) -> Policies:
    if spec is None:
        return Policies()
    if isinstance(spec, str):
        return Policies(preset=spec)
    if isinstance(spec, list):
        return Policies(rules=spec)
    return spec


def build(
    spec: Policies,
    ask: AskHandler,
    *,
    known_tools: Iterable[str],
    workspaces: list[str],
) -> list[Policy]:
    from google.antigravity.hooks import policy

    rules: list[Policy] = []
    names = sorted(set(known_tools))
    for rule in spec.rules:
        rules.extend(_rule(rule, ask, names))
    has_wildcard = any(r.tool == "*" for r in spec.rules)
    preset = spec.preset
    if preset == "allowAll":
        rules.append(policy.allow_all())
    elif preset == "denyAll":
        rules.append(policy.deny_all())
    elif preset == "confirmRunCommand":
        rules.extend(policy.confirm_run_command(handler=ask))
    elif preset == "workspaceOnly":
        if not workspaces:
            raise invalid_params("the workspaceOnly preset needs createAgent.workspaces")
        rules.extend(policy.workspace_only(workspaces))
        if not has_wildcard:
            rules.extend(policy.safe_defaults(handler=ask))
    elif not has_wildcard:  # safeDefaults, or no preset at all
        rules.extend(policy.safe_defaults(handler=ask))
    return rules


def _rule(rule: PolicyRule, ask: AskHandler, names: list[str]) -> list[Policy]:
    from google.antigravity.hooks import policy

    tool_glob = _mcp_tool_glob(rule.tool)
    when = _predicate(rule.when, tool_glob) if rule.when or tool_glob else None
    targets = [rule.tool]
    if "/" in rule.tool:
        server, _, tool = rule.tool.partition("/")
        if not server or _is_glob(server) or not tool:
            raise invalid_params(f"policy tool {rule.tool!r}: an MCP rule is `server/tool` or `server/*`", field="policies")
        targets = [f"{server}/*" if _is_glob(tool) else rule.tool]
    elif rule.tool != "*" and _is_glob(rule.tool):
        targets = [n for n in names if fnmatch.fnmatchcase(n, rule.tool)]
    reason = rule.reason or ""
    label = f"rule:{rule.tool}"
    out: list[Policy] = []
    for tool in targets:
        if rule.decision == "allow":
            out.append(policy.allow(tool, when=when, name=label))
        elif rule.decision == "deny":
            out.append(policy.deny(tool, when=when, name=label, reason=reason))
        else:
            out.append(policy.ask_user(tool, handler=ask, when=when, name=label, reason=reason))
    return out


def _is_glob(pattern: str) -> bool:
    return pattern != "*" and any(c in pattern for c in "*?[")


def _mcp_tool_glob(tool: str) -> str | None:
    """The tool-name glob of an MCP rule like `server/get_*` (None for `server/*`)."""
    name = tool.partition("/")[2]
    return name if "/" in tool and _is_glob(name) else None


def _predicate(matchers: list[ArgMatcher], tool_glob: str | None) -> Callable[..., bool]:
    """A `when` that gets the whole ToolCall (the SDK passes it when the parameter
    is annotated with its ToolCall class), so that it can match an MCP tool's name
    and read its own arguments whether or not the harness wrapped them."""
    from google.antigravity import types as sdk

    try:
        compiled = [(m.arg, re.compile(m.pattern)) for m in matchers]
    except re.error as e:
        raise invalid_params(f"bad regular expression in policy: {e}") from e

    def matches(call: sdk.ToolCall) -> bool:
        if tool_glob is not None and not fnmatch.fnmatchcase(str(call.name), tool_glob):
            return False
        args = mcp.call_args(dict(call.args), call.server_name)
        for arg, pattern in compiled:
            value = args.get(arg)
            if value is None or not pattern.search(value if isinstance(value, str) else str(value)):
                return False
        return True

    matches.__annotations__ = {"call": sdk.ToolCall, "return": bool}
    return matches
