# agy-lsp — run `make help` for the targets.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
THIRD_PARTY := tests/third_party

.DEFAULT_GOAL := help

help: ## Show this help
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-12s\033[0m %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test,dev]'
	touch $(STAMP)

venv: $(STAMP) ## Create .venv and install agy-lsp with test and dev extras

demo: $(STAMP) ## A short streamed session on the scripted model, through the real server and SDK
	$(PY) -m agy_lsp.demo

# The pytest half that runs beside the rest in `make test` (each half ~ the same time).
SHARD_B := $(wildcard tests/acp tests/mcp_front tests/wire tests/nvim tests/third_party tests/run tests/plain_editors tests/chat_tmux)

test: $(STAMP) ## Everything: lint, types, Python tests (e2e, faults, client, ACP, Neovim, real third-party clients) and the VS Code extension
	@# Node 24, code-server and chromium for the real-VS Code suite install meanwhile (make vscode waits for them)
	@if [ -f editors/vscode/provision.sh ] && [ "$${AGY_VSCODE_E2E:-1}" != 0 ]; then \
		mkdir -p editors/vscode/.cache && (bash editors/vscode/provision.sh >editors/vscode/.cache/provision.log 2>&1 &) ; fi
	@# so do the pinned third-party clients (Node 22, MCP Inspector, Gemini CLI, Claude Code); pytest waits for them below
	@mkdir -p $(THIRD_PARTY)/.cache && (bash $(THIRD_PARTY)/provision.sh >$(THIRD_PARTY)/.cache/provision.log 2>&1 &)
	@# and the plain LSP editors (Emacs with eglot) and tmux for the terminal chat, from Debian's packages
	@mkdir -p .cache && ( (sh tests/plain_editors/provision.sh && sh tests/chat_tmux/provision.sh) >.cache/apt.log 2>&1 &)
	$(MAKE) lint
	bash $(THIRD_PARTY)/provision.sh || { cat $(THIRD_PARTY)/.cache/provision.log; exit 1; }
	sh tests/plain_editors/provision.sh || { cat .cache/apt.log; exit 1; }
	sh tests/chat_tmux/provision.sh || { cat .cache/apt.log; exit 1; }
	@# two pytest runs side by side (most tests wait on harnesses, editors and clients): the half
	@# below prints as it runs, the other half's output follows it; both must pass
	@mkdir -p .cache; \
	$(PY) -m pytest -q -p no:cacheprovider $(SHARD_B) >.cache/pytest-b.log 2>&1 & other=$$!; \
	$(PY) -m pytest -q $(addprefix --ignore=,$(SHARD_B)) tests; first=$$?; \
	wait $$other; second=$$?; \
	echo "=== and side by side with it: pytest $(SHARD_B)"; cat .cache/pytest-b.log; \
	exit $$(( first || second ))
	bash tests/acp_ts/run.sh
	$(MAKE) vscode
	@# harnesses of this checkout only (by executable path), so other work on the machine is not blamed
	@leaked=$$(for p in $$(pgrep -x localharness); do readlink /proc/$$p/exe; done | grep -F "$(CURDIR)/" || true); \
	if [ -n "$$leaked" ]; then echo "leaked localharness processes:"; echo "$$leaked"; exit 1; fi

lint: $(STAMP) ## ruff, pyright (strict on the package) and the architecture contracts (import-linter)
	$(VENV)/bin/ruff check agy_lsp tests benchmarks
	$(VENV)/bin/pyright agy_lsp
	$(VENV)/bin/lint-imports

# The fast suites need no harness: the core on the fake SDK, the in-process front-ends
# (once tests/inproc exists), the SDK adapter's units, and the import contracts
# (tests/test_architecture.py runs lint-imports on the package). Pyright runs beside them.
CHECK_TESTS := $(wildcard tests/core tests/inproc tests/test_architecture.py) tests/sdk --ignore=tests/sdk/test_internals.py

check: $(STAMP) ## The inner loop (~20 s on 2 idle cores): ruff, pyright beside the fast suites (core, in-process front-ends, SDK units, contracts)
	$(VENV)/bin/ruff check agy_lsp tests benchmarks
	@out=$$(mktemp); $(VENV)/bin/pyright agy_lsp >$$out 2>&1 & types=$$!; \
	$(PY) -m pytest -q $(CHECK_TESTS); tests=$$?; \
	wait $$types; typed=$$?; \
	if [ $$typed = 0 ]; then tail -n1 $$out; else cat $$out; fi; rm -f $$out; \
	exit $$(( tests || typed ))

third-party: $(STAMP) ## Only the real third-party clients: CodeCompanion.nvim, MCP Inspector, Claude Code, Gemini CLI
	bash $(THIRD_PARTY)/provision.sh
	$(PY) -m pytest -q $(THIRD_PARTY)

vscode: ## Build, lint, test and package the VS Code extension (.vsix)
	@if [ -f editors/vscode/ci.sh ]; then bash editors/vscode/ci.sh; else echo "no VS Code extension yet"; fi

bench: $(STAMP) ## Run benchmarks/ and write benchmarks/results.{json,md}
	$(PY) -m benchmarks

clean: ## Remove the venv and build output (the VS Code extension's too, with its Node 24 / code-server cache, and the third-party clients)
	rm -rf $(VENV) build *.egg-info editors/vscode/node_modules editors/vscode/out editors/vscode/dist editors/vscode/server editors/vscode/.cache editors/vscode/*.vsix
	rm -rf $(THIRD_PARTY)/node_modules $(THIRD_PARTY)/.cache

.PHONY: help venv demo test lint check third-party vscode bench clean
