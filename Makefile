# Gongxin: `make run` serves the lookup on http://127.0.0.1:5000, `make test` runs the suite,
# `make bench` writes docs/benchmarks.md. Each creates .venv and installs the project first;
# a second call reinstalls only when pyproject.toml changed.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 5000
SAMPLE_DIR ?= instance/sample
SAMPLE_ENTITIES ?= 20000
# `make run` feeds the lookup from the sample regulators' files unless GONGXIN_SOURCES says otherwise.
RUN_ENV = GONGXIN_SOURCES=$${GONGXIN_SOURCES:-$(SAMPLE_DIR)/sources.toml}

.PHONY: run test bench install browser screenshots clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/gongxin db upgrade
	$(BIN)/gongxin sample-data $(SAMPLE_DIR) --entities $(SAMPLE_ENTITIES) --if-store-empty
	-$(RUN_ENV) $(BIN)/gongxin ingest run
	$(BIN)/gongxin index sync
	# The regulators' sample (inspectors, a drawn plan, a console token) only beside the sample regulators' files.
	test -n "$$GONGXIN_SOURCES" || $(BIN)/gongxin inspections sample --if-empty --host $(HOST) --port $(PORT)
	$(RUN_ENV) GONGXIN_SCHEDULER=$${GONGXIN_SCHEDULER:-on} $(BIN)/gongxin serve --host $(HOST) --port $(PORT)

test: $(STAMP) browser
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Rewrite docs/screenshots/ (the README's pictures of the pages) from the browser tests.
screenshots: $(STAMP) browser
	GONGXIN_SCREENSHOTS=1 $(BIN)/python -m pytest tests/pages/test_browser.py -k screenshots

# The browser tests drive Debian's Chromium, and the pages need a CJK font to render; on a fresh
# Debian machine (as root) install both when missing. Nothing is downloaded at test time.
browser:
	test -x /usr/bin/chromium -a -e /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc || \
		(apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium fonts-wqy-zenhei)

bench: $(STAMP)
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) *.egg-info
