"""Execute the project's notebooks top to bottom, optionally overriding their parameters cell.

The cell tagged ``parameters`` (or, failing a tag, the first code cell) holds the settings; overrides
go into a new cell right after it, as papermill does, so a notebook runs at toy size in tests.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from .errors import DigitseqError


def parameters_index(nb) -> int:
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and "parameters" in cell.get("metadata", {}).get("tags", []):
            return i
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            return i
    raise DigitseqError("notebook has no code cell")


def default_parameters(path: str | Path) -> dict:
    """The values a notebook's parameters cell sets (the cell holds plain assignments of literals)."""
    nb = nbformat.read(Path(path), as_version=4)
    namespace: dict = {}
    exec(nb.cells[parameters_index(nb)].source, {}, namespace)
    return namespace


def run_notebook(path: str | Path, params: dict | None = None, out: str | Path | None = None,
                 cwd: str | Path | None = None, timeout: int | None = None) -> float:
    """Run ``path`` (writing the executed notebook to ``out``, default: in place); return seconds taken."""
    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    # A notebook executed in place keeps the cell injected last time: drop it, so parameters never stack.
    nb.cells = [c for c in nb.cells if "injected-parameters" not in c.get("metadata", {}).get("tags", [])]
    if params:
        lines = ["# Parameters injected by digitseq.notebooks.run_notebook"]
        lines += [f"{k} = {v!r}" for k, v in params.items()]
        cell = nbformat.v4.new_code_cell("\n".join(lines), metadata={"tags": ["injected-parameters"]})
        nb.cells.insert(parameters_index(nb) + 1, cell)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(cwd or path.parent)}})
    t0 = time.time()
    saved = os.environ.get("MPLBACKEND")
    os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"   # plots into the notebook
    try:
        client.execute()
    finally:
        if saved is None:
            os.environ.pop("MPLBACKEND", None)
        else:
            os.environ["MPLBACKEND"] = saved
    seconds = time.time() - t0
    nb.cells = [as_record(c) for c in nb.cells]
    nbformat.write(nb, out or path)
    return seconds


def as_record(cell):
    """An injected parameters cell, once run, as a markdown record of the run's parameters: left as code it would
    silently override the parameters cell above it for anyone who edits that cell and runs the notebook in Jupyter."""
    if cell.cell_type != "code" or "injected-parameters" not in cell.get("metadata", {}).get("tags", []):
        return cell
    lines = cell.source.splitlines()[1:]           # without the "# Parameters injected" line
    text = ("**The parameters this run was given** (by `digitseq.notebooks.run_notebook`, e.g. `make run` or a "
            "`digitseq.pipeline` preset); they replaced the cell above's when it ran. Edit the cell above and run "
            "the notebook to use your own.\n\n```python\n" + "\n".join(lines) + "\n```")
    return nbformat.v4.new_markdown_cell(text, metadata={"tags": ["injected-parameters"]})


def main(argv=None) -> int:
    """``python -m digitseq.notebooks NOTEBOOK...``: execute notebooks in place, from the project root."""
    import argparse

    from . import ROOT

    ap = argparse.ArgumentParser(prog="python -m digitseq.notebooks", description=main.__doc__)
    ap.add_argument("notebooks", nargs="+")
    for name in ap.parse_args(argv).notebooks:
        print(f"== {name}: {run_notebook(ROOT / name, cwd=ROOT):.0f}s", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
