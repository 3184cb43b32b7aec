"""Policies: wire rules -> resolved rules and presets (agents/policies.py), and what
they decide in a turn (through the fake's copy of the SDK's policy engine)."""

from __future__ import annotations

import msgspec
import pytest

from agy_lsp.agents.policies import normalize, resolve
from agy_lsp.protocol.errors import AgyError, ErrorCode
from agy_lsp.protocol.types import Policies, PolicyRule
from agy_lsp.sdk.port import Preset, Rule
from tests.core.conftest import CoreFactory, raises
from tests.core.fake_sdk import BUILTIN_TOOLS, Say, Tool

KNOWN = [*BUILTIN_TOOLS, "word_count"]


def rules(*wire: dict[str, object], preset: str | None = None, workspaces: list[str] | None = None) -> tuple[list[Rule], list[Preset]]:
    spec = msgspec.convert({"rules": list(wire), "preset": preset}, Policies)
    return resolve(spec, known_tools=KNOWN, workspaces=workspaces or [])


def test_a_glob_is_expanded_against_the_agents_tool_names() -> None:
    got, _ = rules({"tool": "*_file", "decision": "deny", "reason": "no files"})
    assert got == [
        Rule("create_file", "deny", reason="no files"),
        Rule("edit_file", "deny", reason="no files"),
        Rule("view_file", "deny", reason="no files"),
    ]
    got, _ = rules({"tool": "run_?ommand", "decision": "allow"}, {"tool": "word_[a-z]*", "decision": "ask_user"})
    assert [(r.tool, r.decision) for r in got] == [("run_command", "allow"), ("word_count", "ask_user")]


def test_a_glob_that_matches_no_tool_makes_no_rule() -> None:
    got, _ = rules({"tool": "nothing_*", "decision": "deny"})
    assert got == []


def test_an_exact_name_is_kept_even_when_unknown() -> None:
    got, _ = rules({"tool": "not_yet_known", "decision": "deny"})
    assert got == [Rule("not_yet_known", "deny")]


def test_an_mcp_server_wildcard_and_an_mcp_tool_glob() -> None:
    got, _ = rules(
        {"tool": "github/*", "decision": "ask_user"},
        {"tool": "github/get_*", "decision": "allow"},
        {"tool": "jira/create", "decision": "deny"},
    )
    assert got == [Rule("github/*", "ask_user"), Rule("github/*", "allow", tool_glob="get_*"), Rule("jira/create", "deny")]


@pytest.mark.parametrize("tool", ["/get", "github/", "git*/get", "gh?/x", "[a]/x"])
def test_a_malformed_mcp_rule_is_invalid_params(tool: str) -> None:
    with pytest.raises(AgyError) as info:
        rules({"tool": tool, "decision": "deny"})
    assert info.value.code == ErrorCode.INVALID_PARAMS and info.value.data["field"] == "policies"


def test_a_bad_regular_expression_is_invalid_params() -> None:
    with pytest.raises(AgyError) as info:
        rules({"tool": "run_command", "decision": "deny", "when": [{"arg": "CommandLine", "pattern": "rm (-rf"}]})
    assert info.value.code == ErrorCode.INVALID_PARAMS and "regular expression" in info.value.message


def test_argument_matchers_are_kept_in_order() -> None:
    got, _ = rules(
        {"tool": "run_command", "decision": "deny", "when": [{"arg": "CommandLine", "pattern": "^rm"}, {"arg": "Cwd", "pattern": "/"}]}
    )
    assert got[0].when == (("CommandLine", "^rm"), ("Cwd", "/"))


@pytest.mark.parametrize(
    ("preset", "wildcard", "workspaces", "expected"),
    [
        (None, False, [], ["safeDefaults"]),
        (None, True, [], []),
        ("safeDefaults", False, [], ["safeDefaults"]),
        ("safeDefaults", True, [], []),
        ("allowAll", False, [], ["allowAll"]),
        ("allowAll", True, [], ["allowAll"]),
        ("denyAll", False, [], ["denyAll"]),
        ("confirmRunCommand", False, [], ["confirmRunCommand"]),
        ("workspaceOnly", False, ["/w"], ["workspaceOnly", "safeDefaults"]),
        ("workspaceOnly", True, ["/w"], ["workspaceOnly"]),
    ],
)
def test_presets_come_after_the_rules_with_safe_defaults_unless_a_wildcard_rule_decides(
    preset: str | None, wildcard: bool, workspaces: list[str], expected: list[str]
) -> None:
    wire = [{"tool": "view_file", "decision": "deny"}] + ([{"tool": "*", "decision": "allow"}] if wildcard else [])
    got, presets = rules(*wire, preset=preset, workspaces=workspaces)
    assert [p.name for p in presets] == expected
    assert got[0] == Rule("view_file", "deny")


def test_workspace_only_needs_workspaces() -> None:
    with pytest.raises(AgyError) as info:
        rules(preset="workspaceOnly")
    assert info.value.code == ErrorCode.INVALID_PARAMS


def test_every_wire_form_normalizes_to_policies() -> None:
    rule = PolicyRule(tool="run_command", decision="deny")
    assert normalize(None) == Policies()
    assert normalize("denyAll") == Policies(preset="denyAll")
    assert normalize([rule]) == Policies(rules=[rule])
    assert resolve([rule], known_tools=KNOWN, workspaces=[]) == resolve(Policies(rules=[rule]), known_tools=KNOWN, workspaces=[])


# ---------------------------------------------------------------------------- in a turn


async def outcomes(c, agent: str, *calls: Tool) -> dict[str, str | None]:
    """Tool name -> the outcome its toolResult chunk showed."""
    c.sdk.script(agent, [*calls, Say("done")])
    turn = (await c.manager.chat(agent, "go")).turn_id
    return {r.name: r.outcome for r in c.editor.results(turn)}


async def test_a_glob_rule_decides_in_a_turn(core: CoreFactory) -> None:
    async with core() as c:
        agent = await c.create(policies={"preset": "allowAll", "rules": [{"tool": "*_file", "decision": "deny"}]})
        got = await outcomes(c, agent, Tool("edit_file", {"path": "x"}), Tool("run_command", {"CommandLine": "ls"}))
        assert got == {"edit_file": "denied", "run_command": "completed"}


async def test_an_mcp_tool_glob_decides_only_the_tools_it_names(core: CoreFactory) -> None:
    async with core() as c:
        agent = await c.create(policies={"preset": "denyAll", "rules": [{"tool": "github/get_*", "decision": "allow"}]})
        got = await outcomes(c, agent, Tool("github/get_issue", {"n": 1}), Tool("github/delete_repo"), Tool("get_issue"))
        assert got == {"github/get_issue": "completed", "github/delete_repo": "denied", "get_issue": "denied"}


async def test_an_argument_matcher_decides_by_the_arguments(core: CoreFactory) -> None:
    async with core() as c:
        agent = await c.create(
            policies={
                "preset": "allowAll",
                "rules": [{"tool": "run_command", "decision": "deny", "when": [{"arg": "CommandLine", "pattern": "^rm "}]}],
            }
        )
        c.sdk.script(agent, [Tool("run_command", {"CommandLine": "rm -rf /"}), Tool("run_command", {"CommandLine": "ls"})])
        turn = (await c.manager.chat(agent, "go")).turn_id
        assert [r.outcome for r in c.editor.results(turn)] == ["denied", "completed"]


async def test_safe_defaults_allow_reading_and_ask_for_the_rest(core: CoreFactory) -> None:
    async with core() as c:
        c.editor.confirm_default = "reject_once"
        agent = await c.create()
        got = await outcomes(c, agent, Tool("view_file", {"path": "a"}), Tool("create_file", {"path": "b"}))
        assert got == {"view_file": "completed", "create_file": "denied"}
        assert [p.tool_call.name for p in c.editor.confirms] == ["create_file"]


async def test_a_specific_rule_beats_a_wildcard_one(core: CoreFactory) -> None:
    async with core() as c:
        agent = await c.create(policies=[{"tool": "*", "decision": "deny"}, {"tool": "view_file", "decision": "allow"}])
        got = await outcomes(c, agent, Tool("view_file"), Tool("run_command"))
        assert got == {"view_file": "completed", "run_command": "denied"}


async def test_a_bad_policy_at_create_is_invalid_params_and_starts_nothing(core: CoreFactory) -> None:
    async with core() as c:
        await raises(ErrorCode.INVALID_PARAMS, c.create(policies=[{"tool": "git*/x", "decision": "deny"}]))
        await raises(ErrorCode.INVALID_PARAMS, c.create(start=False, policies="workspaceOnly"))
        assert c.sdk.starts == [] and c.manager.list() == []


async def test_new_policies_apply_from_the_next_turn_and_bad_ones_change_nothing(core: CoreFactory) -> None:
    async with core() as c:
        agent = await c.create(policies="allowAll")
        assert await outcomes(c, agent, Tool("run_command")) == {"run_command": "completed"}
        with pytest.raises(AgyError) as info:
            bad = msgspec.convert({"tool": "x", "when": [{"arg": "a", "pattern": "("}]}, PolicyRule)
            c.manager.set_policies(agent, [PolicyRule(tool="run_command", decision="deny"), bad])
        assert info.value.code == ErrorCode.INVALID_PARAMS
        assert await outcomes(c, agent, Tool("run_command")) == {"run_command": "completed"}
        c.manager.set_policies(agent, "denyAll")
        assert await outcomes(c, agent, Tool("run_command")) == {"run_command": "denied"}
        assert len(c.sdk.lives_of(agent)) == 2  # the harness restarted on the same conversation for it
        assert c.sdk.live(agent).spec.conversation_id == c.sdk.lives_of(agent)[0].conversation_id
