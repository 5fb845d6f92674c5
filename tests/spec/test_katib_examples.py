"""Katib's 33 upstream example Experiments, read from ../shared/katib-examples/, all lint clean."""

from __future__ import annotations

from pathlib import Path

import pytest

from katib_flows.cli import main
from katib_flows.spec import check_file

# ../shared beside the checkout; the first such folder above it, so that a git worktree finds it too.
EXAMPLES = next(
    (p / "shared" / "katib-examples" for p in Path(__file__).resolve().parents[2:] if (p / "shared").is_dir()),
    Path(__file__).resolve().parents[3] / "shared" / "katib-examples",
)
FILES = sorted(EXAMPLES.rglob("*.yaml"))


def test_the_examples_are_there() -> None:
    assert len(FILES) == 33, f"expected Katib's 33 examples under {EXAMPLES}"


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(EXAMPLES)) for p in FILES])
def test_upstream_example_lints_clean(path: Path) -> None:
    [checked] = check_file(path)
    errors = [p.format() for p in checked.problems if p.is_error]
    assert checked.ok, "\n".join(errors)


def test_lint_command_on_all_examples(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lint", *map(str, FILES)]) == 0
    out = capsys.readouterr().out
    assert out.count(": ok") == 33
