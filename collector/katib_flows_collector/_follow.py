"""Following a metrics file or a TensorFlow event directory while the trial writes it.

Used by the local runner (``katib_flows.local``) and by the File/TensorFlowEvent sidecar of the Kubernetes
runner (``python -m katib_flows_collector watch``). Each ``read`` returns the metrics completed since the
last one; ``read(final=True)`` also takes what is left. A line or event that does not parse is given to
``report`` and skipped, so one bad line never stops the lines after it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

from katib_flows_collector._errors import CollectorError
from katib_flows_collector._lines import LineSplitter
from katib_flows_collector._metric import Metric
from katib_flows_collector._tfevents import TFEventReader

__all__ = ["EventSource", "FileSource", "Report"]

Report = Callable[[str], None]


class FileSource:
    """Follows a metrics file (TEXT or JSON lines) from its start, feeding each complete line to a parser.

    The file may not exist yet (the training container creates it): reads give nothing until it does. A
    partial last line waits for the next read, except the final one. A file that shrinks was rewritten
    (opened again with ``"w"``), so it is read again from its start, as ``tail -F`` does. A file that cannot
    be read (a directory, no permission yet) is tried again at each read and said once while it lasts.
    """

    def __init__(self, path: str, feed: Callable[[str], list[Metric]], report: Report) -> None:
        self.path = path
        self._feed = feed
        self._report = report
        self._offset = 0
        self._split = LineSplitter()
        self._unreadable = ""  # the read error last reported, until a read succeeds

    def read(self, *, final: bool = False) -> list[Metric]:
        chunk = self._read_new_bytes()
        lines = self._split.push(chunk) + (self._split.flush() if final else [])
        metrics: list[Metric] = []
        for line in lines:
            try:
                metrics.extend(self._feed(line))
            except CollectorError as exc:  # one bad line must not stop the lines after it
                self._report(f"{self.path}: {exc}")
        return metrics

    def _read_new_bytes(self) -> bytes:
        try:
            with open(self.path, "rb") as stream:
                if os.fstat(stream.fileno()).st_size < self._offset:
                    self._offset, self._split = 0, LineSplitter()
                stream.seek(self._offset)
                chunk = stream.read()
        except FileNotFoundError:
            return b""
        except OSError as exc:
            problem = f"cannot read {self.path}: {exc.strerror or exc}"
            if problem != self._unreadable:
                self._report(problem)
            self._unreadable = problem
            return b""
        self._unreadable = ""
        self._offset += len(chunk)
        return chunk


class EventSource:
    """Follows the TensorFlow event files under a directory (which may not exist yet); a corrupt or cut-short
    file is reported once and given up, the others are still read."""

    def __init__(self, directory: str, metric_names: Sequence[str], report: Report) -> None:
        self._reader = TFEventReader(directory, metric_names)
        self._report = report

    def read(self, *, final: bool = False) -> list[Metric]:
        metrics = self._reader.finish() if final else self._reader.poll()
        for problem in self._reader.problems:
            self._report(str(problem))
        self._reader.problems.clear()
        return metrics
