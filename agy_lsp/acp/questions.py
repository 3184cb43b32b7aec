"""The agent's `ask_question` over ACP: a form through `elicitation/create` when the
client supports form elicitation, else an answer that tells the model no one can
reply. The core gets the answer in the shape of the `onInteraction` hook
(`sdk/callbacks.py` `question_result`): one `{selectedOptionIds?, freeformResponse?,
skipped?}` per question.
"""

from __future__ import annotations

from typing import Any

from acp import Client
from acp.schema import (
    AcceptElicitationResponse,
    DeclineElicitationResponse,
    ElicitationFormSessionMode,
    ElicitationMultiSelectPropertySchema,
    ElicitationSchema,
    ElicitationStringPropertySchema,
    EnumOption,
    TitledMultiSelectItems,
)

from agy_lsp.protocol.types import HookResult

NO_ONE = (
    "No one can answer questions here: this editor's ACP client does not support elicitation. "
    "Decide yourself, and tell the person what you assumed."
)
DECLINED = "The person declined to answer. Decide yourself, and say what you assumed."


def _questions(data: Any) -> list[dict[str, Any]]:
    raw: Any = data.get("questions") if isinstance(data, dict) else None  # pyright: ignore[reportUnknownMemberType]
    return [q for q in raw if isinstance(q, dict)] if isinstance(raw, list) else []  # pyright: ignore[reportUnknownVariableType]


def _options(question: dict[str, Any]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for n, option in enumerate(question.get("options") or []):
        if isinstance(option, dict):
            out.append((str(option.get("id", n)), str(option.get("text", option.get("id", n)))))  # pyright: ignore[reportUnknownArgumentType, reportUnknownMemberType]
        else:
            out.append((str(n), str(option)))
    return out


def form(data: Any) -> ElicitationSchema:
    """One field per question: a single or multiple choice among its options, or free text."""
    properties: dict[str, Any] = {}
    for n, q in enumerate(_questions(data)):
        title = str(q.get("question", f"Question {n + 1}"))
        choices = [EnumOption(const=value, title=text) for value, text in _options(q)]
        if choices and q.get("is_multi_select"):
            properties[f"q{n}"] = ElicitationMultiSelectPropertySchema(
                type="array", title=title, items=TitledMultiSelectItems(any_of=choices), min_items=1
            )
        elif choices:
            properties[f"q{n}"] = ElicitationStringPropertySchema(type="string", title=title, one_of=choices)
        else:
            properties[f"q{n}"] = ElicitationStringPropertySchema(type="string", title=title)
    return ElicitationSchema(type="object", properties=properties, required=list(properties))


def _each(data: Any, answer: dict[str, Any]) -> HookResult:
    return HookResult(answer=[dict(answer) for _ in _questions(data)] or [answer])


async def ask(client: Client | None, can_elicit: bool, session_id: str, tool_call_id: str | None, data: Any) -> HookResult:
    if client is None or not can_elicit:
        return _each(data, {"freeformResponse": NO_ONE})
    questions = _questions(data)
    message = questions[0].get("question", "The agent has a question") if len(questions) == 1 else "The agent has questions"
    mode = ElicitationFormSessionMode(session_id=session_id, tool_call_id=tool_call_id, requested_schema=form(data))
    response = await client.create_elicitation(message=str(message), mode=mode)
    if isinstance(response, DeclineElicitationResponse):
        return _each(data, {"freeformResponse": DECLINED})
    if not isinstance(response, AcceptElicitationResponse):  # cancelled: the interaction is cancelled
        return HookResult(answer=None)
    content = response.content or {}
    answers: list[dict[str, Any]] = []
    for n, q in enumerate(questions):
        value = content.get(f"q{n}")
        known = {v for v, _ in _options(q)}
        if isinstance(value, list):
            answers.append({"selectedOptionIds": [str(v) for v in value if str(v) in known]})  # pyright: ignore[reportUnknownVariableType]
        elif isinstance(value, str) and value in known:
            answers.append({"selectedOptionIds": [value]})
        elif value is not None:
            answers.append({"freeformResponse": str(value)})
        else:
            answers.append({"skipped": True})
    return HookResult(answer=answers)
