"""The YAML writer: every string stays a string for go-yaml, output is canonical and reads back equal."""

from __future__ import annotations

import json
from typing import Any

import yaml
from argo_helpers import unquoted_strings
from hypothesis import given, settings
from hypothesis import strategies as st

from katib_flows.argo import to_json, to_yaml, to_yaml_all

HOSTILE = [
    "1e-5", "1E5", "yes", "No", "on", "OFF", "y", "n", "0x10", "0o17", "010", "08", "1_000", "null", "Null", "~",
    "", " ", ".inf", "-.inf", ".NaN", "12:30:00", "2001-12-14", "true", "False", "- a", ": x", "#c", "a #b",
    "{a: 1}", "[1]", '"q"', "'s'", "\ttab", " lead", "trail ", "multi\nline", "multi\n trailing \n", "é ü 中",
    "|", ">", "!tag", "*alias", "&anchor", "%x", "@x", "`x", "{{inputs.parameters.x}}", "a: b", "? x", "\\",
]  # fmt: skip


def test_hostile_strings_round_trip_and_are_all_quoted() -> None:
    document = {
        "values": HOSTILE,
        "map": {f"k{i}": v for i, v in enumerate(HOSTILE)},
        "keys": dict.fromkeys(HOSTILE, 1),
    }
    text = to_yaml(document)
    assert yaml.safe_load(text) == document
    assert unquoted_strings(text) == []
    assert json.loads(to_json(document)) == document


def test_ints_and_booleans_stay_plain_and_typed() -> None:
    text = to_yaml({"parallelism": 3, "flag": True, "zero": 0, "negative": -1})
    assert "parallelism: 3\n" in text and "flag: true\n" in text
    assert yaml.safe_load(text) == {"parallelism": 3, "flag": True, "zero": 0, "negative": -1}


def test_order_is_canonical_whatever_the_insertion_order() -> None:
    a = {"spec": {"b": [1], "a": "x", "name": "n", "c": {"z": 1}}, "kind": "K", "apiVersion": "v"}
    b = {"apiVersion": "v", "kind": "K", "spec": {"c": {"z": 1}, "name": "n", "a": "x", "b": [1]}}
    assert to_yaml(a) == to_yaml(b)
    assert to_json(a) == to_json(b)
    assert list(yaml.safe_load(to_yaml(a))["spec"]) == ["name", "a", "b", "c"]  # name, scalars, lists, maps


def test_long_lines_are_never_folded() -> None:
    value = "{{steps.suggest.outputs.parameters.status}} == trial && " * 20
    text = to_yaml({"when": value})
    assert len(text.splitlines()) == 1


def test_repeated_objects_are_written_out_not_anchored() -> None:
    shared = {"a": "1"}
    text = to_yaml({"x": shared, "y": shared})
    assert "&" not in text and "*" not in text


def test_several_documents() -> None:
    text = to_yaml_all([{"a": "1"}, {"b": "2"}])
    assert list(yaml.safe_load_all(text)) == [{"a": "1"}, {"b": "2"}]


_scalars = st.one_of(st.text(max_size=20), st.integers(-(10**6), 10**6), st.booleans())
_documents: Any = st.recursive(
    st.dictionaries(st.text(max_size=12), _scalars, max_size=4),
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(st.text(max_size=12), children, max_size=3)
    ),
    max_leaves=12,
).filter(lambda d: isinstance(d, dict))


@settings(max_examples=300, deadline=None)
@given(_documents)
def test_any_document_reads_back_equal_with_nothing_left_to_a_resolver(document: dict[str, Any]) -> None:
    text = to_yaml(document)
    assert yaml.safe_load(text) == document
    assert unquoted_strings(text) == []
    assert to_yaml(document) == text
