# `make run` and `make test` set everything up first; every step is idempotent.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# Setup-time tools with dependencies of their own (tflite-support, which writes the
# selfie models' metadata): a virtualenv of their own, so the server's holds only
# what the server and its tests import.
TOOLS_VENV := .venv-tools
TOOLS_PY := $(TOOLS_VENV)/bin/python
SYSTEM_PACKAGES := chromium ffmpeg coturn redis-server nginx openssl janus
# What setup itself needs from Debian: tflite-support (the tools' virtualenv) loads libusb.
# ffmpeg happens to pull it in, but `make run` must not depend on that.
SETUP_PACKAGES := libusb-1.0-0
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# Static checks, one target each: `make lint` runs them all, and `make test` runs it
# before any test, stopping at the first that fails. Add a checker by adding its target here.
LINT := lint-js lint-python lint-floors

.PHONY: setup run lint $(LINT) test unit jsunit integration e2e bench bodypix system-packages setup-packages clean soak hypothesis

setup: $(VENV)/.installed node_modules/.installed static/vendor/.installed

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(TOOLS_VENV)/.installed: tools/requirements.txt
	$(PYTHON) -m venv $(TOOLS_VENV)
	$(TOOLS_PY) -m pip install --quiet --disable-pip-version-check -r tools/requirements.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

static/vendor/.installed: node_modules/.installed $(wildcard tools/*.py) $(TOOLS_VENV)/.installed | setup-packages
	$(TOOLS_PY) tools/install_assets.py
	touch $@

system-packages setup-packages: PACKAGES = $(if $(filter setup-packages,$@),$(SETUP_PACKAGES),$(SYSTEM_PACKAGES))
system-packages setup-packages:
	@missing=""; for package in $(PACKAGES); do \
	  dpkg -s $$package >/dev/null 2>&1 || missing="$$missing $$package"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi

# Optional: BodyPix weights come from no registry; this needs the internet once.
bodypix: setup
	$(PY) tools/download_bodypix.py

run: setup
	$(PY) server.py

lint: $(LINT)

# The browser modules' JSDoc types (tsconfig.json says what is checked).
lint-js: node_modules/.installed
	node_modules/.bin/tsc -p tsconfig.json

# static/js/floors.json: every browser module imports only from its own folder or one below (tools/floors.mjs).
lint-floors:
	node tools/floors.mjs

# ruff.toml says what is checked.
lint-python: $(VENV)/.installed
	$(VENV)/bin/ruff check .

test: lint setup system-packages
	npm test --silent
	$(PY) -m pytest

# The browser's pure modules (layout, scheduler, sizers, sync, schema messages…) under Node.
jsunit: setup
	npm test --silent

unit: setup
	$(PY) -m pytest tests/unit

integration: setup
	$(PY) -m pytest tests/integration

e2e: setup system-packages
	$(PY) -m pytest tests/e2e

# Minutes of churn by a few hundred clients, one process and two with Redis (not in `test`).
soak: setup system-packages
	$(PY) -m pytest -m soak -s tests/integration/test_soak.py

# The property tests with many more examples than `test` gives them.
hypothesis: setup
	HYPOTHESIS_PROFILE=thorough $(PY) -m pytest tests/unit/test_properties.py tests/integration/test_properties_live.py

# Benchmarks take minutes; their results go into docs/benchmarks.md by hand.
bench: setup system-packages
	$(PY) -m pip install --quiet --disable-pip-version-check -r bench/requirements.txt
	$(PY) bench/join_time.py
	$(PY) bench/analysis.py
	$(PY) bench/scene.py
	$(PY) bench/faces_unseen.py
	$(PY) bench/broadcast.py
	$(PY) bench/broadcast.py --glass --seconds 40
	$(PY) bench/signaling.py --sizes 50x4 100x4 --targets minimal memory redis redis2
	$(PY) bench/sfu.py --sizes 4 6 8 --rounds 3

clean:
	rm -rf $(VENV) $(TOOLS_VENV) node_modules static/vendor test-artifacts
