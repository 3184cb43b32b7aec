"""The parts of `agy-lsp chat` (agy_lsp/chat_cli.py): input (prompt_toolkit), render
(rich, or plain text), commands (the slash commands) and confirm (the questions)."""
