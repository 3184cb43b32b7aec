"""`agy-lsp run`: the one-shot command's parts (exit codes, output, the editor it
gives the core). The entry point is `agy_lsp.run_cli`; see docs/run.md.

Nothing here imports a wire library (pygls, lsprotocol, acp, mcp): `run` drives the
core in-process, and its cold start is the point.
"""
