# Akkoord — the two commands: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
KAFKA_CP := deploy/local/kafka/target/dependency/.complete

.PHONY: run lint test test-unit test-integration test-e2e bench install kafka secantusd pdf-tools system-packages lock schemas clean

PORTAL_VENDOR := services/portal/static/vendor/signature_pad.umd.min.js
PORTAL_NODE_MODULES := services/portal/web/node_modules/.package-lock.json

install: $(VENV)/.installed $(PORTAL_NODE_MODULES) $(PORTAL_VENDOR)

$(VENV)/.installed: pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check --upgrade pip
	$(PY) -m pip install -q --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $@

# The portal's front-end packages come from the npm registry (package-lock.json pins them): signature_pad,
# copied into the portal's static files, and axe-core, which the browser tests inject into every page.
$(PORTAL_NODE_MODULES): services/portal/web/package-lock.json
	npm ci --prefix services/portal/web --no-audit --no-fund --silent
	touch $@

$(PORTAL_VENDOR): $(PORTAL_NODE_MODULES)
	mkdir -p $(dir $@)
	cp services/portal/web/node_modules/signature_pad/dist/signature_pad.umd.min.js $@

# Debian packages the tests drive: poppler-utils (pdfsig, an independent seal validator; pdftocairo) and qpdf
# (structural PDF checks) from the unit tier on; Chromium (Playwright uses the system executable) for e2e only.
PDF_TOOLS := poppler-utils qpdf
BROWSER := chromium
define debian_packages
	@missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  echo "installing Debian packages:$$missing"; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi
endef

pdf-tools:
	$(call debian_packages,$(PDF_TOOLS))

system-packages:
	$(call debian_packages,$(PDF_TOOLS) $(BROWSER))

# The broker's jars, resolved by Maven and cached in its local repository (~/.m2).
kafka: $(KAFKA_CP)

$(KAFKA_CP): deploy/local/kafka/pom.xml
	cd deploy/local/kafka && mvn -B -q dependency:copy-dependencies -DincludeScope=runtime
	touch $@

# SecantusDB's Rust server (secantusd-rs, crates.io `secantus-mdb`, GPL-2.0): the local MongoDB-protocol server
# for `make run`, the tests and the bench. Built once (about 12 minutes on 2 cores) and cached outside the
# work tree, so a fresh clone on the same machine reuses it. Without cargo, the Python server is used instead.
SECANTUSD_VERSION := 0.5.3-beta.196
SECANTUSD_ROOT := $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/akkoord/secantusd-$(SECANTUSD_VERSION)
secantusd:
	@if [ -x "$(SECANTUSD_ROOT)/bin/secantusd-rs" ]; then :; \
	elif ! command -v cargo >/dev/null; then \
	  echo "cargo not found: the tests use SecantusDB's Python server (slower); install Rust to build secantusd-rs"; \
	else \
	  echo "building secantusd-rs $(SECANTUSD_VERSION) once (about 12 minutes on 2 cores; cached in $(SECANTUSD_ROOT))"; \
	  cargo install secantus-mdb --version $(SECANTUSD_VERSION) --locked --ignore-rust-version \
	    --root "$(SECANTUSD_ROOT)" --color never 2>&1 | awk '/Compiling/ { n++; if (n % 25 == 0 || /secantus/) \
	    printf "  secantusd-rs: %d crates compiled, now %s\n", n, $$2; fflush(); next } /^error|Finished|Installed/ { print; fflush() }'; \
	  test -x "$(SECANTUSD_ROOT)/bin/secantusd-rs"; \
	fi

run: install kafka secantusd
	$(PY) -m deploy.local.run

# ruff (lint, import order, format) over the tree; mypy over contracts/ and services/, strict for contracts/,
# services/runtime/, every domain.py and every subscribers.py (pyproject.toml says which).
lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy

test: install kafka secantusd system-packages lint
	$(PY) -m pytest -q -p no:cacheprovider --durations=30

test-unit: install pdf-tools
	$(PY) -m pytest -q -m unit

test-integration: install kafka secantusd
	$(PY) -m pytest -q -m integration

test-e2e: install kafka secantusd system-packages
	$(PY) -m pytest -q -m e2e

bench: install kafka secantusd
	$(PY) -m bench

# Re-pin every Python dependency after changing pyproject.toml.
lock:
	$(PY) -m pip freeze --exclude-editable | grep -v '^-e ' > constraints.txt

schemas: install
	$(PY) -m contracts.schemas

clean:
	rm -rf $(VENV) deploy/local/kafka/target
