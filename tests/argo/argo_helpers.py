"""Shared by the Argo tests: where the examples and Argo's JSON schema are, and a go-yaml quoting check."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
#: /work/shared beside the landing checkout /work/main, two levels up from a worktree /work/wt/NAME.
SHARED = next(
    (p for p in (REPO.parent / "shared", REPO.parent.parent / "shared") if p.is_dir()), REPO.parent / "shared"
)
SCHEMA = SHARED / "argo" / "schema.json"
KATIB_EXAMPLES = SHARED / "katib-examples"
UPSTREAM = sorted(KATIB_EXAMPLES.rglob("*.yaml"))
OURS = sorted(p for p in (REPO / "examples").rglob("*.yaml") if "compiled" not in p.parts)

#: What a plain scalar may be in our output: an int or a boolean (YAML 1.1 and 1.2 agree on these forms).
_PLAIN_VALUE = re.compile(r"^(-?[1-9][0-9]*|0|true|false)$")
_PLAIN_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_./-]*$")
_YAML11_WORDS = {"y", "n", "yes", "no", "on", "off", "true", "false", "null"}


def unquoted_strings(text: str) -> list[str]:
    """Every scalar of ``text`` that a go-yaml reader could take for something other than what it says.

    Values must be quoted, literal blocks, or plain ints/booleans; keys may be plain only when they are
    words no YAML version reads as a boolean, null or number.
    """
    found: list[str] = []
    for document in yaml.compose_all(text, Loader=yaml.SafeLoader):
        _walk(document, found, key=False)
    return found


def _walk(node: Any, found: list[str], *, key: bool) -> None:
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            _walk(k, found, key=True)
            _walk(v, found, key=False)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            _walk(item, found, key=False)
    elif isinstance(node, yaml.ScalarNode) and node.style in (None, ""):
        ok = (
            _PLAIN_KEY.match(node.value) is not None and node.value.lower() not in _YAML11_WORDS
            if key
            else _PLAIN_VALUE.match(node.value) is not None
        )
        if not ok:
            found.append(f"line {node.start_mark.line + 1}: plain {'key' if key else 'value'} {node.value!r}")
