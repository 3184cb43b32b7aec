"""Wire policies -> resolved rules for the SDK adapter.

Matching stays the SDK's. Two things are ours: globs in `tool` are expanded against
the agent's known tool names (the SDK matches exact names and "*"), and argument
matchers are checked here (a bad regular expression is InvalidParams at create).
Whatever the rules leave open falls to the safe default: reading is allowed,
anything else asks the editor.

MCP tools are named `server/tool`. The SDK matches `server/tool` and `server/*`
itself; a glob in the tool part (`github/get_*`) becomes `server/*` plus a match on
the tool's name, because an MCP server's tools are only known once the harness has
started it. A bare name never matches an MCP tool.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable

from agy_lsp.protocol.errors import invalid_params
from agy_lsp.protocol.types import Policies, PolicyPreset, PolicyRule
from agy_lsp.sdk.port import Preset, Rule

AnyPolicies = Policies | list[PolicyRule] | PolicyPreset | None


def normalize(spec: AnyPolicies) -> Policies:
    if spec is None:
        return Policies()
    if isinstance(spec, str):
        return Policies(preset=spec)
    if isinstance(spec, list):
        return Policies(rules=spec)
    return spec


def resolve(spec: AnyPolicies, *, known_tools: Iterable[str], workspaces: list[str]) -> tuple[list[Rule], list[Preset]]:
    """(rules, presets) in the order the SDK should see them. Raises InvalidParams."""
    policies = normalize(spec)
    names = sorted(set(known_tools))
    rules = [r for rule in policies.rules for r in _rule(rule, names)]
    has_wildcard = any(r.tool == "*" for r in policies.rules)
    preset = policies.preset
    presets: list[Preset] = []
    if preset in ("allowAll", "denyAll", "confirmRunCommand"):
        presets.append(Preset(preset))
    elif preset == "auto":  # routine calls pass the SDK's safety model; reads are allowed, the rest asks
        presets += [Preset("auto"), Preset("safeDefaults")] if not has_wildcard else [Preset("auto")]
    elif preset == "workspaceOnly":
        if not workspaces:
            raise invalid_params("the workspaceOnly preset needs createAgent.workspaces", field="policies")
        presets.append(Preset("workspaceOnly"))
        if not has_wildcard:
            presets.append(Preset("safeDefaults"))
    elif not has_wildcard:  # safeDefaults, or no preset at all
        presets.append(Preset("safeDefaults"))
    return rules, presets


def _rule(rule: PolicyRule, names: list[str]) -> list[Rule]:
    when: list[tuple[str, str]] = []
    for m in rule.when:
        try:
            re.compile(m.pattern)
        except re.error as e:
            raise invalid_params(f"bad regular expression in policy: {e}", field="policies") from e
        when.append((m.arg, m.pattern))
    tool_glob: str | None = None
    targets = [rule.tool]
    if "/" in rule.tool:
        server, _, tool = rule.tool.partition("/")
        if not server or _is_glob(server) or not tool:
            raise invalid_params(f"policy tool {rule.tool!r}: an MCP rule is `server/tool` or `server/*`", field="policies")
        if _is_glob(tool):
            targets, tool_glob = [f"{server}/*"], tool
    elif rule.tool != "*" and _is_glob(rule.tool):
        targets = [n for n in names if fnmatch.fnmatchcase(n, rule.tool)]
    return [Rule(t, rule.decision, tuple(when), tool_glob, rule.reason or "") for t in targets]


def _is_glob(pattern: str) -> bool:
    return pattern != "*" and any(c in pattern for c in "*?[")
