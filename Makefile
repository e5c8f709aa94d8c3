# Every target creates .venv from scratch when it is missing, so a fresh clone needs only
# Python 3.11 and pip (and Java 17 for the Spark engine tests, which otherwise skip saying so).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test lint browser bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,dask,mlflow,examples,spark,skew]'
	touch $(STAMP)

demo: $(STAMP)
	$(PY) examples/demo.py

test: $(STAMP) lint browser
	$(PY) -m pytest -q -n 2 tests

# Chromium (Debian's package) for the HTML report's browser test; installed when missing, as root
# with apt-get. Elsewhere the test skips and says what is missing.
browser:
	@command -v chromium >/dev/null || command -v chromium-browser >/dev/null || \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get install -y -q chromium >/dev/null 2>&1 || \
	    { apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; } || \
	    echo "chromium could not be installed (apt-get failed): the browser test skips"; \
	  else echo "chromium missing and not installable here (needs root and apt-get): the browser test skips"; fi

# Lint, format check, type check and the layers contract (ruff, mypy and import-linter,
# configured in pyproject.toml); `make test` runs it first.
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports --no-cache

bench: $(STAMP)
	$(PY) -m pip install --quiet -e '.[bench]'
	$(PY) benchmarks/run.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis
