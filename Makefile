# Akkoord — the two commands: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
KAFKA_CP := deploy/local/kafka/target/dependency/.complete

.PHONY: run test test-unit test-integration test-e2e bench install kafka lock schemas clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check --upgrade pip
	$(PY) -m pip install -q --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $@

# The broker's jars, resolved by Maven and cached in its local repository (~/.m2).
kafka: $(KAFKA_CP)

$(KAFKA_CP): deploy/local/kafka/pom.xml
	cd deploy/local/kafka && mvn -B -q dependency:copy-dependencies -DincludeScope=runtime
	touch $@

run: install kafka
	$(PY) -m deploy.local.run

test: install kafka
	$(PY) -m pytest -q -p no:cacheprovider

test-unit: install
	$(PY) -m pytest -q -m unit

test-integration: install kafka
	$(PY) -m pytest -q -m integration

test-e2e: install kafka
	$(PY) -m pytest -q -m e2e

bench: install kafka
	$(PY) -m bench

# Re-pin every Python dependency after changing pyproject.toml.
lock:
	$(PY) -m pip freeze --exclude-editable | grep -v '^-e ' > constraints.txt

schemas: install
	$(PY) -m contracts.schemas

clean:
	rm -rf $(VENV) deploy/local/kafka/target
