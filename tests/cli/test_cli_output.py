"""``-o/--output`` is a format and ``-O/--out`` a file in every command; the old spellings still work, with a warning.

``compile`` here; ``export`` and ``report`` in tests/report/test_report_export.py (they need a store with a run).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from katib_flows.cli import _exit, main

DIGITS = Path(__file__).resolve().parents[2] / "examples" / "digits" / "experiment-random.yaml"


def test_compile_takes_the_format_with_o_and_the_file_with_capital_o(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    new, old = tmp_path / "new.json", tmp_path / "old.json"
    assert main(["compile", str(DIGITS), "-o", "json", "-O", str(new)]) == 0
    assert "deprecated" not in capsys.readouterr().err
    assert main(["compile", str(DIGITS), "--output", "json", "--out", str(new)]) == 0
    assert "deprecated" not in capsys.readouterr().err
    assert main(["compile", str(DIGITS), "-o", str(old), "--output", "json"]) == 0  # the old spelling
    err = capsys.readouterr().err
    assert f"warning: `-o/--output {old}` is deprecated; write `-O/--out {old}" in err
    assert old.read_text(encoding="utf-8") == new.read_text(encoding="utf-8")
    assert new.read_text(encoding="utf-8").startswith("{")


def test_compile_to_stdout_in_either_format(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compile", str(DIGITS), "-o", "yaml"]) == 0
    assert capsys.readouterr().out.startswith('apiVersion: "argoproj.io/v1alpha1"')
    assert main(["compile", str(DIGITS), "-o", "json"]) == 0
    assert capsys.readouterr().out.startswith("{")


def test_two_formats_or_two_files_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compile", str(DIGITS), "-o", "json", "-o", "yaml"]) == _exit.BAD_INPUT
    assert "-o/--output names one format" in capsys.readouterr().err
    file = str(tmp_path / "a.yaml")
    assert main(["compile", str(DIGITS), "-o", file, "-O", file]) == _exit.BAD_INPUT
    assert "keep -O/--out" in capsys.readouterr().err


def test_commands_that_only_print_take_a_format_with_o(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lint", "-o", "json", str(DIGITS)]) == 0
    assert capsys.readouterr().out.startswith("[")
    assert main(["lint", "-o", "out.txt", str(DIGITS)]) == _exit.BAD_INPUT  # no old file spelling to keep here
