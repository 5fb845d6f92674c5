"""The HTML report of a real digits run, opened in real headless Chromium (Debian's package, driven by playwright).

Checks what a person would see: every plot rendered, one point per completed trial in the history, one
line per completed trial in the parallel coordinates, the table sortable, and no console errors.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from report_helpers import DIGITS_TRIALS

from katib_flows.cli import main
from katib_flows.store import Store, TrialStatus

_RENDERED = """() => {
  const plots = Array.from(document.querySelectorAll('.js-plotly-plot'));
  return plots.length === 4 && plots.every(p => p._fullLayout && p.querySelector('.main-svg'));
}"""


def _open(browser: Any, path: Path) -> tuple[Any, list[str]]:
    page = browser.new_page(viewport={"width": 1300, "height": 900})
    problems: list[str] = []
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url}"))
    page.goto(path.as_uri())
    page.wait_for_function(_RENDERED, timeout=30_000)
    return page, problems


def test_digits_report_renders_every_plot_without_errors(digits_store: str, browser: Any, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    assert main(["report", "digits-random", "--db", digits_store, "-o", str(out)]) == 0
    with Store(digits_store) as store:
        trials = store.list_trials("default", "digits-random")
    completed = [t for t in trials if t.status is TrialStatus.SUCCEEDED and t.objective_value is not None]
    assert len(trials) == DIGITS_TRIALS and completed

    page, problems = _open(browser, out)
    try:
        # The history's first trace has one rendered marker per completed trial.
        points = page.evaluate(
            "document.querySelectorAll('#plot-history .scatterlayer .trace:first-child .point').length"
        )
        assert points == len(completed)
        lines = page.evaluate("document.getElementById('plot-parallel-coordinates')._fullData[0].dimensions[0].values")
        assert len(lines) == len(completed)
        assert page.evaluate("document.querySelectorAll('#plot-parallel-coordinates canvas').length") > 0
        axes = page.evaluate("document.getElementById('plot-parallel-coordinates')._fullData[0].dimensions.length")
        assert axes == 5  # four parameters and the objective
        bars = page.evaluate("document.getElementById('plot-importance')._fullData[0].y")
        assert sorted(bars) == ["alpha", "batch_size", "lr", "units"]
        curves = page.evaluate("document.querySelectorAll('#plot-curves .scatterlayer .trace').length")
        assert curves == len(trials)  # every digits trial prints accuracy once per epoch
        assert page.evaluate("document.querySelectorAll('#trials tbody tr').length") == len(trials)
        assert "digits-random" in page.inner_text("h1")

        # Sorting the table by objective: ascending, then descending.
        column = page.evaluate(
            "Array.from(document.querySelectorAll('#trials th')).findIndex(th => th.textContent === 'objective')"
        )
        header = page.locator("#trials th").nth(column)
        rows = "Array.from(document.querySelectorAll('#trials tbody tr'))"
        values = f"{rows}.map(r => parseFloat(r.cells[{column}].textContent))"
        header.click()
        ascending = page.evaluate(values)
        assert ascending == sorted(ascending)
        header.click()
        assert page.evaluate(values) == sorted(ascending, reverse=True)
        page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
    finally:
        page.close()
    assert problems == []
