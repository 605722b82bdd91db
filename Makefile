# The two commands a newcomer needs: `make run` and `make test`. Both set up .venv first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: run test lint bench migrate clean

# Install into .venv whenever pyproject.toml changes; the pip log goes to .venv/install.log so
# piped console sessions show only the chat.
$(STAMP): pyproject.toml
	@echo "Setting up $(VENV) (first run only, ~30 s)..." >&2
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --upgrade pip >$(VENV)/install.log 2>&1 \
	  && $(BIN)/python -m pip install -e '.[dev]' >>$(VENV)/install.log 2>&1 \
	  || { cat $(VENV)/install.log >&2; exit 1; }
	@touch $(STAMP)

run: $(STAMP)
	@$(BIN)/communitybot run

migrate: $(STAMP)
	@$(BIN)/communitybot migrate

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

# The whole suite. With TEST_DATABASE_URL set, every database test runs on PostgreSQL too;
# without it those runs are skipped and the summary says why.
test: lint
	@if [ -z "$$TEST_DATABASE_URL" ]; then \
	  echo "PostgreSQL runs will be skipped: TEST_DATABASE_URL is not set (.ci/run sets it when PostgreSQL answers on 127.0.0.1:5432)"; \
	fi
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/python bench/core_bench.py
	$(BIN)/python bench/telegram_bench.py
	$(BIN)/python bench/delivery_bench.py
	$(BIN)/python bench/scheduler_bench.py
	$(BIN)/python bench/loyalty_bench.py
	$(BIN)/python bench/faq_bench.py
	$(BIN)/python bench/ugc_bench.py
	$(BIN)/python bench/ambassador_bench.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
