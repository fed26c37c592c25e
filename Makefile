# Two commands do all the set-up on a fresh machine (Python, pip, npm and make present):
#   make demo   -> venv + package + pinned Claude Code CLI, then a tracked demo session
#   make test   -> the same set-up, then the whole test suite
# Re-running is fast: every step is guarded by a stamp file that depends on what it installs from.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CLAUDE_CODE_VERSION := 2.1.328
CLI_DIR := .claude-cli
CLAUDE_BIN := $(CLI_DIR)/node_modules/.bin/claude
SYS_STAMP := $(VENV)/.sysdeps
PY_STAMP := $(VENV)/.installed
CLI_STAMP := $(CLI_DIR)/.installed-$(CLAUDE_CODE_VERSION)

export CLAUDE_TUI_CLAUDE_BIN := $(abspath $(CLAUDE_BIN))
export PATH := $(abspath $(CLI_DIR)/node_modules/.bin):$(PATH)

# `make install` links the venv's `claude-tui` into BINDIR, a folder on most users' PATH (Debian's and
# Ubuntu's ~/.profile add ~/.local/bin once it exists; so do systemd's and pipx's conventions). The link runs
# the venv's Python, and that claude-tui finds the pinned CLI in .claude-cli/ itself.
BINDIR ?= $(HOME)/.local/bin

.PHONY: demo test bench lint setup clean install uninstall

setup: $(PY_STAMP) $(CLI_STAMP) $(SYS_STAMP)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(PY_STAMP): $(BIN)/python pyproject.toml constraints.txt
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test]'
	$(BIN)/python -m compileall -q claude_tui
	touch $@

$(CLI_STAMP):
	mkdir -p $(CLI_DIR)
	cd $(CLI_DIR) && npm install --no-audit --no-fund --loglevel=error --no-save \
		@anthropic-ai/claude-code@$(CLAUDE_CODE_VERSION)
	$(CLAUDE_BIN) --version
	touch $@

# tmux (fidelity tests compare our emulator against it), Chromium (the MLflow UI browser test), less
# (a full-screen program in the pane tests), zsh (its shell integration) and PostgreSQL (the team server
# tests start their own cluster: tests/support/team_server.py) come from Debian's packages. PostgreSQL's
# programs are not on PATH: its initdb is looked for where Debian puts it.
SYS_PACKAGES := tmux chromium less zsh postgresql
$(SYS_STAMP): $(BIN)/python Makefile
	@missing=""; for tool in $(SYS_PACKAGES); do \
		if [ $$tool = postgresql ]; then ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing $$tool"; \
		else command -v $$tool >/dev/null || missing="$$missing $$tool"; fi; done; \
	if [ -n "$$missing" ]; then \
		echo "installing$$missing from Debian's packages"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi
	touch $@

demo: $(PY_STAMP) $(CLI_STAMP)
	$(BIN)/claude-tui demo

install: $(PY_STAMP) $(CLI_STAMP)
	mkdir -p $(BINDIR)
	ln -sfn $(abspath $(BIN))/claude-tui $(BINDIR)/claude-tui
	@case ":$$PATH:" in *":$(BINDIR):"*) echo "claude-tui is on your PATH ($(BINDIR)/claude-tui)";; \
		*) echo "installed $(BINDIR)/claude-tui; $(BINDIR) is not on your PATH yet: add it, e.g." \
			"echo 'export PATH=\"$(BINDIR):\$$PATH\"' >> ~/.profile, then open a new shell";; esac

uninstall:
	rm -f $(BINDIR)/claude-tui

test: setup
	$(BIN)/python -m pytest

lint: $(PY_STAMP)
	$(BIN)/ruff check claude_tui tests benchmarks
	$(BIN)/ruff format --check claude_tui tests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: setup
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) $(CLI_DIR)
