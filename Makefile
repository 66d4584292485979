# Two commands do everything on a fresh clone:
#   make run   - create .venv, install, run the whole pipeline (notebooks 1 -> 2 -> 3, executed in place)
#   make test  - create .venv, install with dev extras, run the test suite
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
export PYTHONUNBUFFERED := 1
export MPLBACKEND := Agg

.PHONY: run test lint bench bench-peers ablation release release-ascii setup clean notebooks

setup: $(STAMP)

$(STAMP): requirements.txt requirements-train.txt requirements-dev.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt -r requirements-train.txt -r requirements-dev.txt
	$(PY) -m pip install -q --no-deps -e .
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

run: $(STAMP)
	$(PY) -m digitseq.pipeline

# The shipped weights: the same notebooks with a larger budget, then copied into digitseq/weights/.
release: $(STAMP)
	$(PY) -m digitseq.pipeline --preset release

release-ascii: $(STAMP)
	$(PY) -m digitseq.pipeline --preset release-ascii

test: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m pytest -q

lint: $(STAMP)
	$(PY) -m ruff check .

bench: $(STAMP)
	$(PY) benchmarks/run_all.py

# Side by side with RapidOCR and Tesseract (optional extras: pip install -r requirements-peers.txt,
# apt-get install tesseract-ocr) on the test and wild sets that make run / make release generate.
bench-peers: $(STAMP)
	$(PY) benchmarks/bench_peers.py --limit 1000

ablation: $(STAMP)
	$(PY) -m digitseq.notebooks 4_Ablations.ipynb

clean:
	rm -rf $(VENV) img build *.egg-info
