"""Wire policies -> the SDK's `google.antigravity.hooks.policy` objects.

Matching stays the SDK's. Two things are ours: globs in `tool` are expanded
against the agent's known tool names (the SDK matches exact names and "*"), and
an argument matcher becomes a `when` predicate. Whatever the rules leave open
falls to the safe default: reading is allowed, anything else asks the editor.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any

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

    when = _predicate(rule.when) if rule.when else None
    targets = [rule.tool]
    if rule.tool != "*" and any(c in rule.tool for c in "*?["):
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


def _predicate(matchers: list[ArgMatcher]) -> Callable[[dict[str, Any]], bool]:
    try:
        compiled = [(m.arg, re.compile(m.pattern)) for m in matchers]
    except re.error as e:
        raise invalid_params(f"bad regular expression in policy: {e}") from e

    def matches(args: dict[str, Any]) -> bool:
        for arg, pattern in compiled:
            value = args.get(arg)
            if value is None or not pattern.search(value if isinstance(value, str) else str(value)):
                return False
        return True

    return matches
