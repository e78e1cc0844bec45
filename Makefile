# citebot: `make run` starts the bot over the bundled corpus; `make test` runs the tests.
# Both create .venv and install what they need on first use.

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
DATA_DIR ?= $(or $(CITEBOT_DATA_DIR),data)
# torch is pinned first: this exact version resolves to a local CPU wheel; a looser spec would
# pull a multi-GB CUDA build.
TORCH := torch==2.13.0

.PHONY: run test lint bench clean install dev

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "$(PYTHON) not found; set PYTHON=/path/to/python3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Stamps record what was installed, so a second `make` installs nothing.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet $(TORCH)
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install --quiet -e ".[dev,bench]"
	touch $@

install: $(VENV)/.installed
dev: $(VENV)/.installed-dev

NO_TOKEN := TELEGRAM_BOT_TOKEN is not set, so the Telegram bot cannot start. To run it: open \
Telegram, talk to @BotFather, send /newbot and follow the prompts; it replies with a token like \
123456789:AA...; then run: export TELEGRAM_BOT_TOKEN=<that token> (or put \
TELEGRAM_BOT_TOKEN=<that token> in a .env file here) and make run again. Meanwhile, here is the \
same answer pipeline at a terminal prompt.

run: $(VENV)/.installed
	CITEBOT_DATA_DIR=$(DATA_DIR) $(BIN)/citebot ingest corpus/documents
	@if [ -n "$$TELEGRAM_BOT_TOKEN" ] || grep -qs '^TELEGRAM_BOT_TOKEN=.' .env; then \
		CITEBOT_DATA_DIR=$(DATA_DIR) exec $(BIN)/citebot run; \
	else \
		echo; printf '%s\n' '$(NO_TOKEN)' | fold -s -w 100; echo; \
		CITEBOT_DATA_DIR=$(DATA_DIR) exec $(BIN)/citebot chat; \
	fi

test: $(VENV)/.installed-dev
	$(BIN)/python -m pytest -q

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check bot retrieval corpus tests bench
	$(BIN)/ruff format --check bot retrieval corpus tests bench
	$(BIN)/mypy

bench: $(VENV)/.installed-dev
	$(BIN)/python bench/xquad.py
	$(BIN)/python bench/latency.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
