"""examples/notebooks/digits.ipynb runs top to bottom in a real Jupyter kernel (nbclient) without an error."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from katib_flows.store import Store

NOTEBOOKS = Path(__file__).resolve().parents[2] / "examples" / "notebooks"


@pytest.mark.slow
def test_digits_notebook_runs(local_env: str) -> None:
    notebook = nbformat.read(NOTEBOOKS / "digits.ipynb", as_version=4)
    report = NOTEBOOKS / "digits-notebook-report.html"
    try:
        NotebookClient(
            notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}}
        ).execute()
        assert report.is_file() and report.stat().st_size > 1_000_000  # plotly.js inlined
    finally:
        report.unlink(missing_ok=True)
    errors = [o for cell in notebook.cells for o in cell.get("outputs", []) if o.get("output_type") == "error"]
    assert errors == []
    with Store(local_env) as store:  # the kernel used the test's store, through KATIB_FLOWS_DB
        assert len(store.list_trials("default", "digits-notebook")) == 6
        assert len(store.list_trials("default", "train")) == 4
    kinds = {key for cell in notebook.cells for o in cell.get("outputs", []) for key in o.get("data", {})}
    assert "application/vnd.plotly.v1+json" in kinds or "text/html" in kinds
