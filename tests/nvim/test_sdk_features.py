"""The SDK's features in the Neovim plugin (plan mode, the thinking level, the auto policy,
nested subagent work, compaction notes), in a real headless Neovim against the real
server. The model is a scripted one in this process, so each test reads what reached it."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from agy_lsp.backends.scripted import ScriptedModel, parse_script
from tests.helpers import delegation
from tests.nvim.conftest import Nvim


def openai(model: ScriptedModel, *replies: dict[str, Any]) -> tuple[dict[str, Any], Any]:
    base_url, state = model.register(parse_script(list(replies)))
    return {"type": "openai", "baseUrl": base_url, "model": "scripted"}, state


def run(command: str) -> dict[str, Any]:
    return {"toolCalls": [{"name": "run_command", "args": {"CommandLine": command, "Cwd": "/tmp"}}]}


def last_user_text(request: dict[str, Any]) -> str:
    """The last user message of an OpenAI-dialect request, as text."""
    users = [m for m in request["messages"] if m.get("role") == "user"]
    return json.dumps(users[-1]["content"]) if users else ""


def wait_configured(nvim: Nvim) -> dict[str, Any]:
    assert nvim.wait("require('agy.settings').last ~= nil")
    last = nvim.lua("local l = require('agy.settings').last; require('agy.settings').last = nil; return l")
    return last


def test_plan_mode_sends_plan_renders_the_plan_in_place_and_go_approves(nvim: Nvim, model: ScriptedModel, tmp_path: Path) -> None:
    folder = tmp_path / "ws"
    folder.mkdir()
    plan_file = folder / "implementation_plan.md"

    def write(markdown: str) -> dict[str, Any]:
        args = {"TargetFile": str(plan_file), "CodeContent": markdown, "Overwrite": True}
        return {"toolCalls": [{"name": "write_to_file", "args": args}]}

    draft = "# Parser plan\n\n- [ ] read the code\n- [ ] write the parser\n- [ ] test it\n"
    plan = "# Parser plan\n\nSteps:\n\n- [x] read the code\n- [/] write the parser\n- [ ] test it\n"
    backend, state = openai(model, write(draft), write(plan), {"text": "Here is my plan. Shall I go ahead?"}, {"text": "Parser written."})
    nvim.setup(backend=backend, policies="allowAll", workspaces=[str(folder)])

    nvim.cmd("AgyPlan build a parser")
    info = nvim.wait_turn()
    assert info["stopReason"] == "end_turn", info
    # The agent was created interactive (the harness plans only then), and the model got /plan.
    created = nvim.lua("return T.sent_params('agy/createAgent')")
    assert len(created) == 1 and created[0]["capabilities"]["agentBehavior"] == "interactive", created
    assert "/plan build a parser" in last_user_text(state.requests[0])
    assert info["chunks"].count("plan") == 2, info["chunks"]

    lines = nvim.chat_lines()
    heads = [i for i, line in enumerate(lines) if line.startswith("  ▤ plan · implementation_plan.md")]
    assert len(heads) == 1, "a rewritten plan is updated in place:\n" + "\n".join(lines)
    head = heads[0]
    assert lines[head] == "  ▤ plan · implementation_plan.md · 1/3 done"
    assert lines[head + 1 : head + 8] == [
        "  ┃ # Parser plan",
        "  ┃",
        "  ┃ Steps:",
        "  ┃",
        "  ┃ ✔ read the code",
        "  ┃ ◐ write the parser",
        "  ┃ ○ test it",
    ], lines
    assert nvim.lua("return T.line_hl(...)", head + 5) == ["AgyPlanDone"]
    assert nvim.lua("return T.line_hl(...)", head + 6) == ["AgyPlanActive"]
    assert nvim.lua("return T.line_hl(...)", head + 7) == ["AgyPlanPending"]
    # The agent's answer follows the plan, then the hint to approve it.
    answer = lines.index("Here is my plan. Shall I go ahead?")
    assert answer > head + 7
    hint = next(i for i, line in enumerate(lines) if line.startswith("  ▶ review the plan"))
    assert hint > answer and ":AgyGo (ga)" in lines[hint]
    assert nvim.lua("return require('agy.chat').plans[T.current()].awaiting") is True
    assert nvim.lua("return require('agy').statusline()").endswith(" tok · plan ready")

    # `ga` in the chat buffer approves: the next message goes to the same agent.
    assert nvim.lua("return vim.b.agy_agent") == nvim.lua("return T.current()")
    nvim.api.input("ga")
    info = nvim.wait_turn()
    assert info["text"] == "Parser written."
    assert "Go ahead with the plan." in last_user_text(state.requests[-1])
    assert nvim.lua("return require('agy.chat').plans[T.current()].awaiting") is False
    assert nvim.lua("return require('agy').statusline()").endswith(" tok")
    assert len(nvim.lua("return T.sent_params('agy/configureAgent')")) == 0, "the agent was interactive already"

    # :AgyPlan without a request opens the plan's file.
    nvim.cmd("AgyPlan")
    assert nvim.lua("return vim.api.nvim_buf_get_name(0)") == str(plan_file)


def test_thinking_level_reaches_a_gemini_model_and_changes_between_turns(nvim: Nvim, model: ScriptedModel) -> None:
    name = f"thinker-{uuid.uuid4().hex[:8]}"
    _, state = model.register(parse_script([{"text": "one"}, {"text": "two"}]), name=name)
    env = {"GOOGLE_GEMINI_BASE_URL": model.gemini_base_url, "GEMINI_API_KEY": "scripted-not-a-key"}
    nvim.setup(backend={"type": "gemini", "model": name}, model_options={"thinkingLevel": "high"}, env=env)
    nvim.cmd("AgyChat first")
    assert nvim.wait_turn()["text"] == "one"
    assert state.requests[0]["generationConfig"]["thinkingConfig"]["thinkingLevel"] == "high"

    nvim.cmd("AgyThinking low")
    change = wait_configured(nvim)
    assert change["ok"] is True, change
    sent = nvim.lua("return T.sent_params('agy/configureAgent')")
    assert sent == [{"agentId": nvim.lua("return T.current()"), "modelOptions": {"thinkingLevel": "low"}}]
    nvim.cmd("AgyChat second")
    assert nvim.wait_turn()["text"] == "two"
    assert state.requests[-1]["generationConfig"]["thinkingConfig"]["thinkingLevel"] == "low"
    assert "_thinking level low_" in nvim.chat_lines()

    # An unknown level never reaches the server.
    nvim.lua("pcall(vim.cmd, 'AgyThinking extreme')")  # an error message, as for any bad argument
    assert wait_configured(nvim)["ok"] is False
    assert len(nvim.lua("return T.sent_params('agy/configureAgent')")) == 1
    assert any("unknown thinking level" in n["msg"] for n in nvim.lua("return T.notes"))


def test_auto_policy_switching_presets_and_plan_on_a_running_agent(nvim: Nvim, model: ScriptedModel, tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    backend, state = openai(
        model,
        {**run(f"touch {first}"), "delayMs": 400},
        {"text": "Looks routine."},  # the safety model's verdict
        {"text": "made it"},
        run(f"touch {second}"),
        {"text": "made another"},
        {"text": "Plan: nothing to tidy."},
    )
    nvim.setup(backend=backend, policies="auto")
    nvim.cmd("AgyChat make a file")
    # A compaction note, delivered through the client's handler while the turn runs.
    assert nvim.wait("require('agy.chat').running() ~= nil")
    nvim.lua(
        "require('agy.client').get().handlers['agy/chatChunk'](nil, "
        "{agentId = T.current(), turnId = 't', seq = 0.5, kind = 'compaction', text = 'Summarised 12 steps.\\nmore'}, {})"
    )
    info = nvim.wait_turn()
    assert info["text"] == "made it"
    created = nvim.lua("return T.sent_params('agy/createAgent')")[0]
    assert created["policies"]["preset"] == "auto", created["policies"]
    assert "Evaluate the current action" in json.dumps(state.requests[1]["messages"]), "the auto policy's safety model was asked"
    assert first.exists() and nvim.lua("return #T.selects") == 0, "a routine call runs without asking"
    lines = nvim.chat_lines()
    assert "  ⟲ history compacted: Summarised 12 steps. more" in lines
    assert lines.index("  ⟲ history compacted: Summarised 12 steps. more") < lines.index("made it")

    nvim.lua("pcall(vim.cmd, 'AgyPolicy bogus')")
    assert wait_configured(nvim)["ok"] is False
    nvim.cmd("AgyPolicy allowAll")
    change = wait_configured(nvim)
    assert change["ok"] is True, change
    sent = nvim.lua("return T.sent_params('agy/configureAgent')")
    assert len(sent) == 1 and sent[0]["policies"]["preset"] == "allowAll", sent
    assert {"tool": "editor_*", "decision": "allow"} in sent[0]["policies"]["rules"]
    before = len(state.requests)
    nvim.cmd("AgyChat another")
    assert nvim.wait_turn()["text"] == "made another"
    assert second.exists()
    assert len(state.requests) == before + 2, "allowAll asks no safety model"

    # The thinking level needs a Gemini model: the server's InvalidParams, explained.
    nvim.cmd("AgyThinking high")
    change = wait_configured(nvim)
    assert change["ok"] is False and change["field"] == "modelOptions", change
    note = nvim.lua("return T.notes[#T.notes]")
    assert "needs a Gemini or Vertex model" in note["msg"], note

    # `/plan` typed in the chat prompt makes this (autonomous) agent interactive first.
    nvim.lua("vim.ui.input = function(opts, cb) cb('/plan tidy up') end")
    nvim.lua("vim.api.nvim_set_current_win(vim.fn.bufwinid(require('agy.chat').buffer(T.current())))")
    nvim.api.input("<CR>")
    info = nvim.wait_turn()
    assert info["text"] == "Plan: nothing to tidy."
    sent = nvim.lua("return T.sent_params('agy/configureAgent')")
    assert sent[-1]["capabilities"] == {"agentBehavior": "interactive"}, sent
    assert "/plan tidy up" in last_user_text(state.requests[-1])
    assert "_this agent is now interactive: it plans, then waits for your go-ahead_" in nvim.chat_lines()


def test_subagent_work_renders_nested_under_the_delegating_call(nvim: Nvim, model: ScriptedModel) -> None:
    backend, _ = openai(model, *delegation({"text": "extra"}))
    nvim.setup(backend=backend, policies="allowAll")
    nvim.cmd("AgyChat delegate")
    info = nvim.wait_turn()
    seen = nvim.lua("return T.seen")
    sub_text = "".join(c["text"] for c in seen if c.get("depth") and c["kind"] == "text")
    assert sub_text == "sub says hi", seen
    assert sub_text not in info["text"]

    lines = nvim.chat_lines()
    call = next(i for i, line in enumerate(lines) if line.startswith("  ⚙ invoke_subagent"))
    result = next(i for i, line in enumerate(lines) if line.startswith("  ↳ invoke_subagent"))
    head = lines.index("    ↳ subagent Helper (self): say hi")
    assert call < result < head, "\n".join(lines)
    assert lines[head + 1] == "    │ " + sub_text
    # The agent's own answer is outside the block, and without the subagent's words.
    agent_lines = [line for line in lines[lines.index("## Agent") + 1 :] if line and not line.startswith((" ", "──"))]
    own_text = "waiting" if sub_text == "sub says hi" else "sub says hi"
    # (Two steps of the agent's text run together when no other chunk came between them:
    # agy/chatChunk does not mark where a step ends.)
    assert "".join(agent_lines) == own_text + "parent done", lines
    assert nvim.lua("return T.line_hl(...)", head) == ["AgySubagentHeader"]
    assert nvim.lua("return T.line_hl(...)", head + 1) == ["AgySubagent"]
    assert [(s["depth"], s["first"], s["last"]) for s in info["subagents"]] == [(1, head, head + 1)]
    # Folded once the turn ended.
    folded = nvim.lua(
        "local buf = require('agy.chat').buffer(T.current()); local row = ... "
        "return vim.api.nvim_win_call(vim.fn.bufwinid(buf), function() return vim.fn.foldclosed(row + 1) end)",
        head + 1,
    )
    assert folded == head + 1
    # The footer says how many of the turn's tokens the subagent used (agy/status trajectoryUsage).
    assert nvim.wait("T.chat_has(' · %d+ by the subagent ──$')", 10000)


def test_checkhealth_and_a_thinking_level_the_backend_refuses(nvim: Nvim) -> None:
    nvim.setup(model_options={"thinkingLevel": "high"}, policies="auto")
    nvim.cmd("checkhealth agy")
    text = "\n".join(nvim.lua("return vim.api.nvim_buf_get_lines(0, 0, -1, false)"))
    assert "OK policies: auto" in text and "policies 'auto': the agent's own model vets risky calls" in text
    assert "WARNING model_options are set but new agents get a scripted backend" in text, text
    assert "plan mode: :AgyPlan makes the agent interactive first" in text
    nvim.cmd("bwipe!")

    # Without an agent yet, :AgyThinking creates one with that level; this backend refuses it.
    nvim.setup()
    nvim.cmd("AgyThinking minimal")
    change = wait_configured(nvim)
    assert change["ok"] is False and change["field"] == "modelOptions", change
    created = nvim.lua("return T.sent_params('agy/createAgent')")
    assert created[-1]["modelOptions"] == {"thinkingLevel": "minimal"}
    assert nvim.lua("return T.current()") is None
    assert "needs a Gemini or Vertex model" in nvim.lua("return T.notes[#T.notes].msg")


def test_parallel_and_nested_subagents_each_get_their_block(nvim: Nvim) -> None:
    """Chunks as the server marks them (two subagents of one call, one of them delegating
    again), delivered through the client's handler while a real turn runs. Two calls
    delegate at once and neither has answered yet when the subagents stream: each block
    opens under the call its chunks name (`parentCallId`), not under the newest one."""
    nvim.setup([{"text": "all done", "delayMs": 1500}])
    nvim.cmd("AgyChat delegate twice")
    assert nvim.wait("require('agy.chat').running() ~= nil")
    two = {
        "Subagents": [
            {"Role": "Reader", "TypeName": "research", "Prompt": "read"},
            {"Role": "Writer", "TypeName": "self", "Prompt": "write"},
        ]
    }
    solo = {"Subagents": [{"Role": "Solo", "TypeName": "self", "Prompt": "alone"}]}
    deep = {"Subagents": [{"Role": "Deep", "TypeName": "self", "Prompt": "dig"}]}
    created = 'Created the following subagents:\n{"conversationId": "T1"}\n{"conversationId": "T2"}'
    t1 = {"depth": 1, "trajectoryId": "T1", "parentTrajectoryId": "T0", "parentCallId": "c1"}
    t2 = {"depth": 1, "trajectoryId": "T2", "parentTrajectoryId": "T0", "parentCallId": "c1"}
    t3 = {"depth": 2, "trajectoryId": "T3", "parentTrajectoryId": "T1", "parentCallId": "s1"}
    chunks = [
        {"kind": "toolCall", "toolCall": {"id": "c1", "name": "invoke_subagent", "args": two}},
        {"kind": "toolCall", "toolCall": {"id": "c2", "name": "invoke_subagent", "args": solo}},
        {"kind": "text", "text": "reading", **t1},
        {"kind": "text", "text": "writing", **t2},
        {"kind": "toolCall", "toolCall": {"id": "s1", "name": "invoke_subagent", "args": deep}, **t1},
        {"kind": "text", "text": "deep\nwork", **t3},
        {"kind": "text", "text": "done reading", **t1},
        {"kind": "text", "text": " more", **t2},
        {"kind": "toolResult", "toolResult": {"id": "c1", "name": "invoke_subagent", "result": created}},
    ]
    for i, chunk in enumerate(chunks):
        chunk = {"agentId": nvim.lua("return T.current()"), "turnId": "t", "seq": (i + 1) / 100, **chunk}
        nvim.lua("require('agy.client').get().handlers['agy/chatChunk'](nil, ..., {})", chunk)
    info = nvim.wait_turn()
    lines = nvim.chat_lines()
    start = next(i for i, line in enumerate(lines) if line.startswith("  ⚙ invoke_subagent"))
    assert '"Role":"Reader"' in lines[start]
    assert lines[start + 1 : start + 10] == [
        "    ↳ subagent Reader (research): read",
        "    │ reading",
        lines[start + 3],
        "      ↳ subagent Deep (self): dig",
        "      │ deep",
        "      │ work",
        "    │ done reading",
        "    ↳ subagent Writer (self): write",
        "    │ writing more",
    ], "\n".join(lines)
    assert lines[start + 3].startswith("    │ ⚙ invoke_subagent Subagents=") and '"Role":"Deep"' in lines[start + 3]
    assert lines[start + 10].startswith("  ⚙ invoke_subagent") and '"Role":"Solo"' in lines[start + 10], "c2 has no subagent"
    assert lines[start + 11].startswith("  ↳ invoke_subagent: Created")
    assert lines[start + 12 : start + 14] == ["all done", ""]
    assert lines[start + 14].startswith("── end_turn")
    assert [(s["trajectoryId"], s["depth"], s["last"] - s["first"]) for s in info["subagents"]] == [
        ("T1", 1, 6),
        ("T2", 1, 1),
        ("T3", 2, 2),
    ]
