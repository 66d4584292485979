# Two commands do everything on a fresh clone:
#   make run   - create .venv, install, run the whole pipeline (notebooks 1 -> 2 -> 3, executed in place)
#   make test  - create .venv, install with dev extras, run the test suite
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
export PYTHONUNBUFFERED := 1
export MPLBACKEND := Agg

.PHONY: run test lint bench ablation setup clean notebooks

setup: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt requirements-onnx.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt -r requirements-dev.txt -r requirements-onnx.txt
	$(PY) -m pip install -q --no-deps -e .
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

run: $(STAMP)
	$(PY) -m digitseq.pipeline

test: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m pytest -q

lint: $(STAMP)
	$(PY) -m ruff check .

bench: $(STAMP)
	$(PY) benchmarks/run_all.py

ablation: $(STAMP)
	$(PY) -m digitseq.notebooks 4_Ablations.ipynb

clean:
	rm -rf $(VENV) img build *.egg-info
