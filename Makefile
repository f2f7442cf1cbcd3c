VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: demo test lint unit wheel bench bench-index clean

# Install contextvec + the default offline model and GloVe, then compare "bank" across three sentences.
demo:
	bash scripts/install.sh demo
	$(BIN)/contextvec compare "I deposited the check at the bank." "We sat on the bank of the river." \
		"The bank approved my loan." --word bank --versus glove-50d

# Install everything (tools, all offline models) and run lint, types, the whole test suite and the wheel check.
test:
	bash scripts/install.sh dev
	$(MAKE) lint
	$(BIN)/python -m pytest
	$(MAKE) wheel

# The package as users get it: build wheel + sdist, install the wheel into a fresh venv, run the demo from it.
wheel:
	VENV=$(VENV) bash scripts/check_wheel.sh

lint:
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports

unit:
	$(BIN)/python -m pytest tests/unit

bench:
	$(BIN)/python benchmarks/throughput.py

# The corpus index: throughput vs embed_words, memory vs corpus size, Brown-scale search, WordNet precision@5.
bench-index:
	for part in throughput memory brown wordnet ray_engine report; do nice $(BIN)/python benchmarks/index.py --part $$part; done

clean:
	rm -rf $(VENV) .wheel-venv .pytest_cache .mypy_cache .ruff_cache
