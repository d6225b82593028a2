# kws developer entry points. `make demo` and `make test` are the two README commands.
VENV ?= .venv
PY := $(VENV)/bin/python
KWS := $(VENV)/bin/kws

.PHONY: setup test demo bench clean

setup:
	bash tools/setup.sh

test: setup
	$(PY) -m pytest -q tests

demo: setup
	$(KWS) demo

bench: setup
	$(PY) -m bench $(AREAS)

clean:
	rm -rf build reports .pytest_cache
