"""A conversation as a transcript: Markdown for people, steps for programs."""

from __future__ import annotations

from agy_lsp.protocol.types import Step


def to_markdown(title: str, steps: list[Step]) -> str:
    lines = [f"# {title or 'Conversation'}", ""]
    for step in steps:
        if step.status != "DONE" and step.status != "done":
            continue  # streaming snapshots of the same step; keep the final one
        if step.source.upper() == "USER" and step.content:
            lines += ["## You", "", step.content.strip(), ""]
        elif step.tool_calls:
            for call in step.tool_calls:
                args = ", ".join(f"{k}={v!r}" for k, v in call.args.items())
                lines += [f"> tool `{call.name}`({args})", ""]
        elif step.source.upper() == "MODEL" and step.content:
            lines += ["## Agent", "", step.content.strip(), ""]
        if step.error:
            lines += [f"> error: {step.error}", ""]
    return "\n".join(lines).rstrip() + "\n"
