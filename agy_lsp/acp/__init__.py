"""The ACP front-end: `agy-lsp --acp` speaks the Agent Client Protocol over the core."""
