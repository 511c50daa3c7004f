# The two commands: `make run` and `make test`. Everything else is a step they use.
VENV := .venv
PY := $(VENV)/bin/python
MC := $(VENV)/bin/messagecenter
UV_VERSION := 0.13.8
# PostgreSQL for the second pass of the suite; pytest-django creates and drops its own
# test database next to this one.
TEST_POSTGRES_URL ?= postgres://postgres@127.0.0.1:5432/test
# The suite runs in this many processes (pytest-xdist; each has its own test database).
PYTEST_WORKERS ?= 2
# pytest, with Python's compiled files written even where the environment asks Python not
# to write them (PYTHONDONTWRITEBYTECODE, which this project's build machine sets): the
# suite starts hundreds of Python processes (servers, workers, commands), and each compiled
# every module it imported again: 0.65 s of CPU more for a server process to start, and
# 2.5 times the CPU for the tests that start them (docs/testing.md). The dependencies are
# compiled once, at install.
PYTEST := env -u PYTHONDONTWRITEBYTECODE $(PY) -m pytest -p no:cacheprovider

.PHONY: run test install lint typecheck migrations-check test-sqlite test-postgres test-slow fuzz lock clean bench bench-data bench-smoke email-corpus

# The demo's order-event intake works out of the box: a development signing secret, made
# once under var/ (unless MARKETPLACE_EVENTS_SECRETS is set), which `run` prints.
DEV_EVENTS_SECRET := var/development-events-secret

run: install
	@mkdir -p var && test -s $(DEV_EVENTS_SECRET) || \
		$(PY) -c 'import secrets; print("dev-" + secrets.token_urlsafe(24))' > $(DEV_EVENTS_SECRET)
	@export MARKETPLACE_EVENTS_SECRETS="$${MARKETPLACE_EVENTS_SECRETS:-$$(cat $(DEV_EVENTS_SECRET))}"; \
		$(MC) migrate --noinput -v0 && $(MC) collectstatic --noinput -v0 && $(MC) demo --no-sign-ins && $(MC) run

# The checks and both passes run at the same time: a pass alone leaves a core idle while its
# tests wait (on the servers and workers they start, on PostgreSQL, at the end on its last
# long test), and the other pass fills it. --output-sync: each one's output comes whole
# when it ends. Each exit code counts (pytest's 5, "no tests ran", fails the build).
test: install
	@$(MAKE) --no-print-directory -j --output-sync=target \
		lint typecheck migrations-check test-sqlite test-postgres

migrations-check: install
	$(MC) makemigrations --check --dry-run -v1

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml requirements.lock scripts/find-python
	@python=$$(scripts/find-python) || exit 1; \
	if ! $(PY) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null; then \
		rm -rf $(VENV) && echo "Creating $(VENV) with $$python" && $$python -m venv $(VENV); \
	fi
	@$(PY) -m pip install -q --disable-pip-version-check uv==$(UV_VERSION)
	@$(VENV)/bin/uv pip install -q --python $(PY) --require-hashes --compile-bytecode -r requirements.lock
	@$(VENV)/bin/uv pip install -q --python $(PY) --no-deps -e .
	@touch $@

lint: install
	$(VENV)/bin/ruff check src tests scripts bench
	$(VENV)/bin/ruff format --check src tests scripts bench
	$(VENV)/bin/lint-imports

typecheck: install
	$(VENV)/bin/mypy

# pytest's own exit codes pass through: 5 ("no tests ran") fails the build.
test-sqlite: install
	DATABASE_URL= $(PYTEST) -n $(PYTEST_WORKERS) --dist worksteal $(PYTEST_ARGS)

test-postgres: install
	@if scripts/wait-for-postgres "$(TEST_POSTGRES_URL)"; then \
		DATABASE_URL="$(TEST_POSTGRES_URL)" $(PYTEST) -n $(PYTEST_WORKERS) --dist worksteal $(PYTEST_ARGS); \
	elif [ "$$CI" = "true" ]; then \
		echo "PostgreSQL is not reachable at $(TEST_POSTGRES_URL) and CI=true: failing." >&2; exit 1; \
	else \
		echo "PostgreSQL is not reachable at $(TEST_POSTGRES_URL): the PostgreSQL pass is SKIPPED." >&2; \
	fi

# Tests marked slow (minutes each, left out of `make test`), on both databases, e.g. the
# e-mail sender killed ten times during 3,000 e-mails (docs/testing.md).
test-slow: install
	DATABASE_URL= $(PYTEST) -n 0 -rP --show-capture=stdout --slow -m slow $(PYTEST_ARGS)
	@if scripts/wait-for-postgres "$(TEST_POSTGRES_URL)"; then \
		DATABASE_URL="$(TEST_POSTGRES_URL)" $(PYTEST) -n 0 -rP --show-capture=stdout --slow -m slow $(PYTEST_ARGS); \
	else \
		echo "PostgreSQL is not reachable at $(TEST_POSTGRES_URL): the PostgreSQL pass is SKIPPED." >&2; \
	fi

# The API fuzzer with many more examples per operation than `make test` runs (docs/testing.md).
FUZZ_EXAMPLES ?= 200
fuzz: install
	DATABASE_URL= FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(PYTEST) -n 0 -rP --show-capture=stdout tests/api/test_fuzz.py
	@if scripts/wait-for-postgres "$(TEST_POSTGRES_URL)"; then \
		DATABASE_URL="$(TEST_POSTGRES_URL)" FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(PYTEST) -n 0 -rP --show-capture=stdout tests/api/test_fuzz.py; \
	fi

lock:
	$(VENV)/bin/uv pip compile pyproject.toml --group dev --generate-hashes --python-version 3.12 -o requirements.lock

# Benchmarks (docs/benchmarks.md). `make bench` generates the marketplace once (100k users,
# 1M messages; `make bench-data` generates it again) and runs every workload over HTTP.
# BENCH_DATABASE_URL must be a database for benchmarks only: generation drops and recreates it.
BENCH_DATABASE_URL ?= sqlite:///$(CURDIR)/var/bench/bench.sqlite3
BENCH_TOKENS ?= var/bench/tokens-$(firstword $(subst :, ,$(BENCH_DATABASE_URL))).json
BENCH_GENERATE_ARGS ?=
BENCH_ARGS ?=

bench: install
	@test -f $(BENCH_TOKENS) || $(MAKE) --no-print-directory bench-data
	MESSAGECENTER_VAR_DIR=var/bench DATABASE_URL="$(BENCH_DATABASE_URL)" \
		$(PY) bench/run.py --tokens $(BENCH_TOKENS) $(BENCH_ARGS)

bench-data: install
	MESSAGECENTER_VAR_DIR=var/bench DATABASE_URL="$(BENCH_DATABASE_URL)" \
		$(PY) bench/generate.py --fresh --tokens $(BENCH_TOKENS) $(BENCH_GENERATE_ARGS)

# A tiny dataset and every workload for a moment (tests/bench/test_smoke.py runs it in CI).
bench-smoke: install
	MESSAGECENTER_VAR_DIR=var/bench-smoke DATABASE_URL= \
		$(PY) bench/run.py --smoke --output var/bench-smoke/result.json

# Every e-mail of the inbound corpus (the suite takes every 4th): docs/email.md.
email-corpus: install
	DATABASE_URL= EMAIL_CORPUS_EVERY=1 $(PYTEST) -q -s -n 0 \
		tests/delivery/test_inbound_corpus.py

clean:
	rm -rf $(VENV) var
