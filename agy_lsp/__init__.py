"""agy-lsp: Google Antigravity agents for any editor, over LSP and ACP on stdio."""

__version__ = "0.1.0"
