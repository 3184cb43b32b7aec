"""Resolved rules (port.Rule, port.Preset) -> the SDK's `google.antigravity.hooks.policy`.

The SDK does the matching (specific before wildcard, deny before ask before allow).
An `ask_user` decision calls `ask`, which the adapter wires to the core's
`confirm_tool`. A `when` predicate gets the whole ToolCall (the SDK passes it when
the parameter is annotated with its ToolCall class), so it can match an MCP tool's
name and read the tool's own arguments whether or not the harness wrapped them.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Awaitable, Callable

from google.antigravity import types as sdk
from google.antigravity.hooks import policy
from google.antigravity.hooks.policy import Policy

from agy_lsp.sdk.port import Preset, Rule
from agy_lsp.sdk.to_wire import SDK_NAMES, call_args

AskHandler = Callable[[sdk.ToolCall, "str | None"], Awaitable[bool]]


def build(rules: list[Rule], presets: list[Preset], ask: AskHandler, workspaces: list[str]) -> list[Policy]:
    out: list[Policy] = []
    for rule in rules:
        when = _predicate(rule) if rule.when or rule.tool_glob else None
        label = f"rule:{rule.tool}"
        tool = SDK_NAMES.get(rule.tool, rule.tool)  # a rule may name a tool as the model calls it
        if rule.decision == "allow":
            out.append(policy.allow(tool, when=when, name=label))
        elif rule.decision == "deny":
            out.append(policy.deny(tool, when=when, name=label, reason=rule.reason))
        else:
            out.append(policy.ask_user(tool, handler=ask, when=when, name=label, reason=rule.reason))
    for preset in presets:
        if preset.name == "allowAll":
            out.append(policy.allow_all())
        elif preset.name == "denyAll":
            out.append(policy.deny_all())
        elif preset.name == "confirmRunCommand":
            out.extend(policy.confirm_run_command(handler=ask))
        elif preset.name == "workspaceOnly":
            out.extend(policy.workspace_only(workspaces))
        elif preset.name == "auto":  # a safety model decides; what it flags asks the person
            out.append(policy.auto(handler=ask))
        else:
            out.extend(policy.safe_defaults(handler=ask))
    return out


def _predicate(rule: Rule) -> Callable[..., bool]:
    compiled = [(arg, re.compile(pattern)) for arg, pattern in rule.when]
    tool_glob = rule.tool_glob

    def matches(call: sdk.ToolCall) -> bool:
        if tool_glob is not None and not fnmatch.fnmatchcase(str(call.name), tool_glob):
            return False
        args = call_args(dict(call.args), call.server_name)
        for arg, pattern in compiled:
            value = args.get(arg)
            if value is None or not pattern.search(value if isinstance(value, str) else str(value)):
                return False
        return True

    matches.__annotations__ = {"call": sdk.ToolCall, "return": bool}
    return matches
