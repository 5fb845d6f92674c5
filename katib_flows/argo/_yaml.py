"""Writing Argo documents as YAML (or JSON) that every YAML reader reads back as written.

Called by the compiler's users (``katib-flows compile``, the committed ``workflow_templates/``) on the
plain dicts the compiler returns. hera's ``to_yaml`` leaves numeric-looking strings such as ``1e-5``
unquoted (hera issue #1607), and go-yaml (kubectl, Argo, Argo CD) reads those as numbers. So every
string value here is double-quoted, or written as a literal block when it spans lines (a block is
always a string); only ints and booleans are plain. Mapping keys are plain when they are words no
YAML version reads as anything but a string, quoted otherwise. Keys are ordered like hera's
``to_yaml``: ``name`` first, then scalars, lists and mappings, each group alphabetically, so the
order depends on the content alone and the same document always gives the same bytes.
"""

from __future__ import annotations

import json
import re
from typing import Any

import yaml

#: A key that YAML 1.1 and 1.2 both read as a string when plain (and that reads well unquoted).
_PLAIN_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_./-]*$")
#: Words that YAML 1.1 (go-yaml v2, PyYAML) reads as booleans or null.
_RESERVED = {"y", "n", "yes", "no", "on", "off", "true", "false", "null"}
_WIDTH = 1 << 30  # never fold a line: a folded `{{...}}` expression breaks Argo (hera issue #1504)


def ordered(node: Any) -> Any:
    """A copy with every mapping's keys in the canonical order (name, scalars, lists, mappings)."""
    if isinstance(node, dict):
        return {key: ordered(node[key]) for key in sorted(node, key=lambda k: (_rank(k, node[k]), str(k)))}
    if isinstance(node, list):
        return [ordered(item) for item in node]
    return node


def _rank(key: Any, value: Any) -> int:
    if key == "name" and isinstance(value, str):
        return 0
    if isinstance(value, list):
        return 2
    if isinstance(value, dict):
        return 3
    return 1


class _Key(str):
    """A mapping key, so the representer can tell keys (maybe plain) from values (always quoted)."""


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True  # a repeated list or mapping is written out again, never as an anchor


def _represent_str(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    if "\n" in data:
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|")  # falls back to "..." if unsafe
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style='"')


def _represent_key(dumper: yaml.SafeDumper, data: _Key) -> yaml.ScalarNode:
    text = str(data)
    if _PLAIN_KEY.match(text) and text.lower() not in _RESERVED:
        return dumper.represent_scalar("tag:yaml.org,2002:str", text, style="")
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style='"')


def _represent_dict(dumper: yaml.SafeDumper, data: dict[Any, Any]) -> yaml.MappingNode:
    items = [(_Key(k) if isinstance(k, str) else k, v) for k, v in data.items()]
    return dumper.represent_mapping("tag:yaml.org,2002:map", items, flow_style=False)


def _represent_float(dumper: yaml.SafeDumper, data: float) -> yaml.ScalarNode:
    # No float belongs in an Argo document (IntOrString fields are strings); if one slips in, keep it a number.
    return dumper.represent_scalar("tag:yaml.org,2002:float", json.dumps(data), style="")


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(_Key, _represent_key)
_Dumper.add_representer(dict, _represent_dict)
_Dumper.add_representer(float, _represent_float)


def to_yaml(document: dict[str, Any]) -> str:
    """The document as YAML text, canonically ordered, every string quoted."""
    text: str = yaml.dump(
        ordered(document),
        Dumper=_Dumper,
        default_flow_style=False,
        allow_unicode=True,
        sort_keys=False,
        width=_WIDTH,
        indent=2,
    )
    return text


def to_yaml_all(documents: list[dict[str, Any]]) -> str:
    """Several documents separated by ``---``, each as ``to_yaml`` writes it."""
    return "---\n".join(to_yaml(d) for d in documents)


def to_json(document: dict[str, Any]) -> str:
    """The document as indented JSON (valid YAML too), canonically ordered, with a final newline."""
    return json.dumps(ordered(document), indent=2, ensure_ascii=False) + "\n"
