"""Random and mutated documents never make the loader or ``lint`` raise: user input is never a traceback."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from katib_flows.cli import main
from katib_flows.spec import check_document, check_text

VALID = yaml.safe_load((Path(__file__).parent / "fixtures" / "valid-minimal.yaml").read_text())

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**6), 10**6), st.floats(allow_nan=True), st.text(max_size=12)
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)),
    max_leaves=8,
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for k, v in node.items():
            found += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            found += _paths(v, (*prefix, i))
    return found


PATHS = _paths(VALID)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(PATHS), values, st.booleans()), min_size=1, max_size=4))
def test_mutated_specs_never_raise(mutations: list[tuple[tuple[Any, ...], Any, bool]]) -> None:
    document = copy.deepcopy(VALID)
    for path, value, delete in mutations:
        node: Any = document
        try:
            for key in path[:-1]:
                node = node[key]
            if delete and isinstance(node, dict):
                node.pop(path[-1], None)
            else:
                node[path[-1]] = value
        except (KeyError, IndexError, TypeError):
            continue
    checked = check_document(document, "fuzz.yaml")
    for problem in checked.problems:
        assert problem.format()


@settings(max_examples=200, deadline=None)
@given(values)
def test_random_documents_never_raise(document: Any) -> None:
    check_document(document, "random.yaml")


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_random_text_never_raises(text: str) -> None:
    for checked in check_text(text, "random.yaml"):
        for problem in checked.problems:
            assert problem.format()


def test_lint_never_tracebacks_on_garbage(tmp_path: Path) -> None:
    files = {
        "binary.yaml": b"\x00\xff\xfe",
        "list.yaml": b"- 1\n- 2\n",
        "tabs.yaml": b"spec:\n\t- x\n",
        "empty.yaml": b"",
    }
    for name, content in files.items():
        (tmp_path / name).write_bytes(content)
    code = main(["lint", *(str(tmp_path / n) for n in files), str(tmp_path / "missing.yaml")])
    assert code == 2
