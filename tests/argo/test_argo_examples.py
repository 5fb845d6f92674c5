"""Every example compiles, through the CLI: ours in ``examples/`` and Katib's 33 upstream ones.

Each output validates against Argo's JSON schema and the unknown-field check, keeps every string a
string, and compiling again gives the same bytes. darts and algorithms katib-flows does not
run yet compile too: the Workflow only calls the step image, which says so at run time.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml
from argo_helpers import KATIB_EXAMPLES, OURS, REPO, SCHEMA, UPSTREAM, unquoted_strings

from katib_flows.argo import schema_problems, unknown_fields
from katib_flows.cli import main

CASES = [*OURS, *UPSTREAM]
IDS = [str(p.relative_to(REPO)) if p.is_relative_to(REPO) else str(p.relative_to(KATIB_EXAMPLES)) for p in CASES]


def test_all_examples_are_found() -> None:
    assert len(UPSTREAM) == 33, f"expected Katib's 33 examples under {KATIB_EXAMPLES}"
    assert len(OURS) >= 4
    assert SCHEMA.is_file(), f"Argo's JSON schema is expected at {SCHEMA}"


@pytest.mark.parametrize("path", CASES, ids=IDS)
def test_example_compiles_validates_and_is_deterministic(path: Path, tmp_path: Path) -> None:
    first, second, as_json = tmp_path / "a.yaml", tmp_path / "b.yaml", tmp_path / "c.json"
    assert main(["compile", str(path), "-o", str(first), "--validate-schema", str(SCHEMA)]) == 0
    assert main(["compile", str(path), "-o", str(second)]) == 0
    assert main(["compile", str(path), "-o", str(as_json), "--output", "json"]) == 0
    text = first.read_text(encoding="utf-8")
    assert text == second.read_text(encoding="utf-8")
    document = yaml.safe_load(text)
    assert json.loads(as_json.read_text(encoding="utf-8")) == document
    assert schema_problems(document, SCHEMA) == []
    assert unknown_fields(document) == []
    assert unquoted_strings(text) == []


@pytest.mark.parametrize("path", OURS, ids=[str(p.relative_to(REPO)) for p in OURS])
def test_example_matches_its_committed_compiled_workflow(path: Path, tmp_path: Path) -> None:
    """Golden files, as hera keeps for its examples: ``examples/*/compiled/`` holds what ``katib-flows
    compile`` writes for each example (the same place ``compile --all`` uses). A change to the compiler shows
    up as a diff there; ``KATIB_FLOWS_REGENERATE=1 pytest tests/argo/test_argo_examples.py`` rewrites them."""
    golden = path.parent / "compiled" / path.name
    produced = tmp_path / path.name
    assert main(["compile", str(path), "-o", str(produced)]) == 0
    expected = produced.read_text(encoding="utf-8")
    if os.environ.get("KATIB_FLOWS_REGENERATE") == "1":
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(expected, encoding="utf-8")
    assert golden.is_file(), f"{golden.relative_to(REPO)} is missing; regenerate with KATIB_FLOWS_REGENERATE=1"
    assert golden.read_text(encoding="utf-8") == expected, (
        f"{golden.relative_to(REPO)} differs from the compiler's output; regenerate with KATIB_FLOWS_REGENERATE=1"
    )
