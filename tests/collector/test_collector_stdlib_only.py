"""The collector goes into users' trial images: it must import nothing outside the standard library."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import katib_flows_collector
import pytest

PACKAGE_DIR = Path(katib_flows_collector.__file__).parent

# Import the package and exercise every entry point, then list the modules that appeared. A fresh
# interpreter, so nothing the test runner imported hides an import. (Not ``-X importtime``: it also lists
# imports that failed, such as copy's probe for Jython's ``org.python.core``.)
PROBE = """
import json, sys, tempfile
before = set(sys.modules)
import katib_flows_collector as c
c.parse_text("2024-01-01T00:00:00Z accuracy=0.5", ["accuracy"], [r"([[:alpha:]]+)=(\\d+\\.\\d+)"])
c.parse_json_lines('{"accuracy": 0.5, "timestamp": 1.5}', ["accuracy"])
c.report_metrics({"accuracy": 0.5})
c.parse_push_lines(c.PUSH_MARKER + '{"metrics": {"accuracy": 1}}', require_marker=True)
with tempfile.TemporaryDirectory() as d:
    open(d + "/events.out.tfevents.1", "wb").close()
    c.read_tf_events(d, ["accuracy"])
c.LineSplitter().push(b"a\\n")
print(json.dumps(sorted(set(sys.modules) - before)))
"""


def is_stdlib(module: str) -> bool:
    return module.partition(".")[0] in sys.stdlib_module_names


@pytest.mark.slow
def test_importing_and_using_the_package_loads_only_stdlib_modules() -> None:
    result = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, timeout=60)
    loaded = json.loads(result.stdout.splitlines()[-1])
    assert "katib_flows_collector" in loaded
    foreign = [m for m in loaded if not is_stdlib(m) and m.partition(".")[0] != "katib_flows_collector"]
    assert foreign == []


def test_source_imports_only_stdlib_and_itself() -> None:
    foreign = []
    for path in sorted(PACKAGE_DIR.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                modules = [node.module or ""] if node.level == 0 else []
            else:
                continue
            foreign += [
                f"{path.name}: {m}"
                for m in modules
                if not is_stdlib(m) and m.partition(".")[0] not in ("katib_flows_collector", "__future__")
            ]
    assert foreign == []


def test_public_names_are_all_exported() -> None:
    public = {
        name
        for name, value in vars(katib_flows_collector).items()
        if not name.startswith("_") and not isinstance(value, type(katib_flows_collector))
    }
    assert public == set(katib_flows_collector.__all__)
