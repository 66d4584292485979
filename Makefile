# Two commands do everything on a fresh clone:
#   make run   - create .venv, install, run the whole pipeline (notebooks 1 -> 2 -> 3, executed in place)
#   make test  - create .venv, install with dev extras, run the test suite
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
export PYTHONUNBUFFERED := 1
export MPLBACKEND := Agg

.PHONY: run test lint bench bench-foreign bench-peers ablation release release-ascii setup clean notebooks

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
# apt-get install tesseract-ocr) on the test and wild sets that make release / make release-ascii and
# benchmarks/bench_foreign.py generate.
# Accuracy on text drawn by matplotlib and by Skia (not our renderer) in held-out fonts, both shipped models.
bench-foreign: $(STAMP)
	$(PY) benchmarks/bench_foreign.py --count 500
	$(PY) benchmarks/bench_foreign.py --count 500 --model ascii
	$(PY) -m pip install -q -r requirements-peers.txt   # skia-python: the same kinds of sets drawn by Skia
	$(PY) benchmarks/bench_foreign.py --count 500 --renderer skia
	$(PY) benchmarks/bench_foreign.py --count 500 --renderer skia --model ascii

bench-peers: $(STAMP)
	$(PY) benchmarks/bench_peers.py --limit 200

ablation: $(STAMP)
	$(PY) -m digitseq.notebooks 4_Ablations.ipynb

clean:
	rm -rf $(VENV) img build *.egg-info
