# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev

# `make run` is local development: signatures are still checked, with the development token
# (ivr.config.DEVELOPMENT_AUTH_TOKEN) unless you set TWILIO_AUTH_TOKEN; the call harness signs
# with the same one.
RUN_ENV := IVR_ENVIRONMENT=$${IVR_ENVIRONMENT:-development}

.PHONY: run test lint typecheck bench bench-calls bench-asr install install-dev clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e .
	touch $@

$(DEV_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(STAMP)

install-dev: $(DEV_STAMP)

run: $(STAMP)
	$(BIN)/ivr db upgrade
	$(RUN_ENV) $(BIN)/ivr serve --host 127.0.0.1 --port 5000

test: $(DEV_STAMP)
	$(BIN)/python -m pytest -q

lint: $(DEV_STAMP)
	$(BIN)/ruff check ivr tests
	$(BIN)/ruff format --check ivr tests

typecheck: $(DEV_STAMP)
	$(BIN)/mypy ivr

bench: $(DEV_STAMP)
	$(BIN)/python -m benchmarks.webhook

# Spoken request numbers: accuracy, decode speed and answer time for the model IVR_VOSK_MODEL
# names (BENCH_ASR_ARGS, e.g. "--limit 10 --json", are passed on).
bench-asr: $(DEV_STAMP)
	@$(BIN)/python -m benchmarks.asr $(BENCH_ASR_ARGS) || { status=$$?; \
	  if [ $$status -eq 2 ]; then \
	    echo "Set IVR_VOSK_MODEL to an unpacked Vosk model directory, for example:" >&2; \
	    echo "  $(BIN)/ivr model fetch ru-small --sha256 <the published SHA-256>" >&2; \
	    echo "  make bench-asr IVR_VOSK_MODEL=var/models/vosk-model-small-ru-0.22" >&2; \
	  fi; exit $$status; }

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache

# Whole calls of a realistic mix against `ivr serve` (BENCH_CALLS_ARGS, e.g. "--workers 2
# --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test --worker --json", are
# passed on); see benchmarks/README.md.
bench-calls: $(DEV_STAMP)
	$(BIN)/python -m benchmarks.calls $(BENCH_CALLS_ARGS)
