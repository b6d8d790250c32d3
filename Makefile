# Control Center — `make run` for a local portal, `make test` for the whole suite.
SHELL := /bin/bash
export UV_PYTHON_DOWNLOADS := never
export UV_LINK_MODE := copy
PY := .venv/bin/python
UV := $(shell command -v uv 2>/dev/null || echo "$(HOME)/.local/bin/uv")

.PHONY: install run test test-fast lint bench clean migrate

$(UV):
	python3 -m pip install --quiet --user uv || python3 -m pip install --quiet uv

.venv/.synced: pyproject.toml uv.lock | $(UV)
	$$(command -v uv || echo $(UV)) sync --frozen
	touch $@

install: .venv/.synced

migrate: install
	$(PY) manage.py migrate --noinput

run: install
	bin/run

lint: install
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy .
	.venv/bin/lint-imports

test: install lint
	$(PY) manage.py makemigrations --check --dry-run
	.venv/bin/pytest $(PYTEST_ARGS)

test-fast: install
	.venv/bin/pytest -m "not browser" $(PYTEST_ARGS)

bench: install
	bin/bench

clean:
	rm -rf var db.sqlite3 staticfiles tests/artifacts
