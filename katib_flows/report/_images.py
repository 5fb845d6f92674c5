"""The report's figures as PNG files, through plotly's kaleido (version 1 drives a Chrome or Chromium).

Called by ``katib-flows report -o png`` and ``Result.report(..., format="png")``. kaleido finds a
Chromium on ``PATH`` (Debian's ``chromium`` package works) or at ``BROWSER_PATH``; without kaleido or a
browser the error says which is missing and how to get it, and no half-written set of images is left.
"""

from __future__ import annotations

import shutil
from importlib.util import find_spec
from pathlib import Path

from katib_flows.errors import KatibFlowsError
from katib_flows.report._figures import figures
from katib_flows.report._history import History

_BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")


def check_image_support() -> None:
    """Raise ``KatibFlowsError`` naming the fix unless kaleido and a Chromium are both available."""
    import os

    if find_spec("kaleido") is None:
        raise KatibFlowsError("PNG output needs kaleido: pip install 'katib-flows[report]' (or pip install kaleido)")
    browser = os.environ.get("BROWSER_PATH")
    if not (browser and Path(browser).exists()) and not any(shutil.which(b) for b in _BROWSERS):
        raise KatibFlowsError(
            "PNG output needs a Chrome or Chromium for kaleido: install one (apt-get install chromium) "
            "or set BROWSER_PATH to its executable; the HTML report (-o html) needs neither"
        )


def write_images(history: History, folder: Path, *, width: int = 1000, height: int = 500) -> list[Path]:
    """Write each figure as ``<folder>/<experiment>-<figure>.png``; the paths written, in page order."""
    check_image_support()
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    try:
        for key, fig in figures(history).items():
            path = folder / f"{history.experiment.name}-{key}.png"
            fig.write_image(path, format="png", width=width, height=height)
            written.append(path)
    except Exception as exc:  # kaleido reports a missing or broken browser with its own exception types
        for path in written:
            path.unlink(missing_ok=True)
        raise KatibFlowsError(f"writing PNG images with kaleido failed: {exc}") from exc
    return written
